/**
 * The gpu.js benchmark alone (the benchmark lines), for the device machine: `run.sh` runs it with
 * `BOUNDARY_SEG_GPUJS_MODES=webgpu`. `node bench/device/bench.js [--only <pattern>]`.
 */
import { disposeGpujs, gpujsWorkloads } from '../gpujs.bench.js';
import { runWorkloads } from '../harness.js';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const started = Date.now();
console.log(`boundary-seg gpu.js benchmark (node ${process.version}, ${(await import('node:os')).cpus().length} cores, modes ${process.env['BOUNDARY_SEG_GPUJS_MODES'] ?? 'all'})`);
await runWorkloads(await gpujsWorkloads(only), { only });
await disposeGpujs();
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
