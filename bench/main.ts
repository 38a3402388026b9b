/**
 * `npm run bench [-- --only <pattern>]`: every benchmark suite, one line per (workload, backend).
 */
import { cleanupCpuPeers, unetWorkloads, withCpuPeers } from './cpu-peers.bench.js';
import { edtWorkloads } from './edt.bench.js';
import { engineWorkloads } from './engine.bench.js';
import { disposeGpujs, gpujsWorkloads } from './gpujs.bench.js';
import { runWorkloads } from './harness.js';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
if (onlyAt >= 0 && !only) {
  console.error('bench: --only needs a pattern, e.g. npm run bench -- --only matmul');
  process.exit(2);
}

const started = Date.now();
console.log(`boundary-seg benchmarks (node ${process.version}, ${(await import('node:os')).cpus().length} cores)${only ? `, only /${only}/i` : ''}`);
await runWorkloads([...withCpuPeers(engineWorkloads()), ...(await gpujsWorkloads(only)), ...unetWorkloads(), ...edtWorkloads()], { only });
cleanupCpuPeers();
await disposeGpujs();
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
