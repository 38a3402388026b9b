/** Registers the built-in backends with the core's registry. Imported for its effect. */
import { registerBackend } from '../core/backend.js';
import { checkOptionKeys } from '../core/options.js';
import { createCpu64Backend, createCpuBackend } from './cpu/backend.js';
import { createWasmBackend } from './wasm/backend.js';

// NOTE: `tag` (any value) only makes a separate instance: `setBackend` reuses one per name and options.
registerBackend({ name: 'cpu', priority: 10, create: (o) => (checkOptionKeys('setBackend', o, ['tag']), createCpuBackend() as never) });
registerBackend({ name: 'cpu64', priority: 0, create: (o) => (checkOptionKeys('setBackend', o, ['tag']), createCpu64Backend() as never) });
// The fast CPU backend (WebAssembly SIMD on every core): the library default. `cpu` stays the
// readable reference every backend is tested against.
registerBackend({
  name: 'wasm',
  priority: 20,
  create: (o) => {
    checkOptionKeys('setBackend', o, ['threads', 'winograd', 'fma', 'tag']);
    return createWasmBackend(o as { threads?: number; winograd?: boolean; fma?: boolean }) as never;
  },
});
// gpu.js (and its optional `gl` build) loads only when `gpujs` is selected; GPUs are opt-in:
// a negative priority never makes it the default.
registerBackend({ name: 'gpujs', priority: -10, create: async (o) => (await import('./gpujs/backend.js')).createGpujsBackend(o) as never });
