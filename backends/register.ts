/**
 * Registers Node's host (files and worker threads: `core/host-node.ts`) and the built-in backends
 * with the core's registry. Imported for its effect by every Node entry point; the browser entry
 * points import `register-browser.ts` instead.
 */
import '../core/host-node.js';
import { registerBuiltinBackends } from './builtins.js';

// gpu.js (and its optional `gl` build) loads only when `gpujs` is selected.
registerBuiltinBackends(async (o) => (await import('./gpujs/backend.js')).createGpujsBackend(o) as never);
