/**
 * Node's host (see `core/host.ts`), registered on import: files through `writeFileAtomic`
 * (`core/files.ts`), `node:crypto`'s SHA-256 for checkpoints, and worker threads through `node:worker_threads`, `BOUNDARY_SEG_THREADS` or
 * the machine's available parallelism (at most 8) giving the `wasm` backend's default thread
 * count. Every Node entry point imports this module (through `backends/register.ts`); the browser
 * entry points never do.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { writeFileAtomic } from './files.js';
import { setHost, type Host, type HostWorkers } from './host.js';

/** Most threads a `wasm` backend starts by default (its pool's limit). */
const MAX_DEFAULT_THREADS = 8;

/**
 * A worker's whole program: a script that works whether Node evaluates it as CommonJS or as an
 * ES module (dynamic import only), giving `program` the scope `HostWorkers.start` promises.
 */
function workerScript(program: string): string {
  return `import('node:worker_threads').then(({ workerData: data, receiveMessageOnPort }) => {
  const receiveMessage = (port) => receiveMessageOnPort(port)?.message;
  ${program}
});
`;
}

const nodeWorkers: HostWorkers = {
  defaultThreads() {
    const env = Number(process.env['BOUNDARY_SEG_THREADS']);
    if (Number.isInteger(env) && env >= 1) return env;
    return Math.max(1, Math.min(MAX_DEFAULT_THREADS, availableParallelism()));
  },
  channel() {
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    return { local: port1, remote: port2 };
  },
  start(program, data, transfer) {
    // no inherited exec flags: the worker needs no loader (it runs no TypeScript) and starts faster
    const worker = new Worker(workerScript(program), { eval: true, execArgv: [], workerData: data, transferList: transfer as never });
    worker.unref();
    return { terminate: () => void worker.terminate() };
  },
};

/** Node's capabilities: its file system, its worker threads and its native SHA-256. */
export const nodeHost: Host = Object.freeze({
  files: Object.freeze({ join, writeFileAtomic }),
  workers: Object.freeze(nodeWorkers),
  digest: Object.freeze({ sha256: (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest()) }),
});

setHost(nodeHost);
