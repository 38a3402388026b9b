/**
 * boundary-seg in a browser: what the package root (`index.ts`) offers, but for the parts that
 * need Node — checkpoint files (`readCheckpointFile`, `readRunRows`, `loadCheckpoint`,
 * `saveCheckpoint`), atomic files (`writeFileAtomic`, `FileWriteError`), the PNG and NIfTI codecs
 * and their limits (zlib) and the folder and nnU-Net loaders. Importing it registers the built-in
 * backends for a browser: `cpu`, `cpu64`, `wasm` (on the calling thread: `threads` > 1 is a
 * BackendError) and `gpujs` (gpu.js's browser build: WebGPU, WebGL or its JavaScript kernels). No
 * host is registered (`core/host.ts`), so `train` takes no run folder (`dir`: an InputError).
 * Nothing it imports comes from `node:`. Bundlers pick it through the `browser` condition of the
 * package's `exports`.
 */
import './backends/register-browser.js';

export * from './core/index.js';
export * from './losses/browser.js';
export * from './metrics/portable.js';
export * from './models/portable.js';
export * from './data/portable.js';
