/**
 * Registers the built-in backends for a browser (imported for its effect by the browser entry
 * points): `cpu`, `cpu64`, `wasm` on the calling thread, and `gpujs` over gpu.js's browser build
 * (WebGPU, WebGL, or its JavaScript kernels), loaded only when selected. No host is registered:
 * a page has neither Node's files nor its worker threads (see `core/host.ts`).
 */
import { registerBuiltinBackends } from './builtins.js';

registerBuiltinBackends(async (o) => (await import('./gpujs/browser.js')).createGpujsBrowserBackend(o) as never);
