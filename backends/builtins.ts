/**
 * The built-in backends' registration, shared by Node's (`register.ts`) and the browser's
 * (`register-browser.ts`), which differ only in which gpujs backend they load when it is selected.
 */
import { registerBackend, type Backend } from '../core/backend.js';
import { checkOptionKeys } from '../core/options.js';
import { createCpu64Backend, createCpuBackend } from './cpu/backend.js';
import { createWasmBackend } from './wasm/create.js';

/** Creates the gpujs backend from `setBackend`'s options (loaded only when `gpujs` is selected). */
export type GpujsLoader = (options: Readonly<Record<string, unknown>>) => Promise<Backend>;

/**
 * Registers `cpu`, `cpu64`, `wasm` (the default: highest priority) and `gpujs` (created by
 * `gpujs`, opt-in: a negative priority never makes it the default).
 */
export function registerBuiltinBackends(gpujs: GpujsLoader): void {
  // NOTE: `tag` (any value) only makes a separate instance: `setBackend` reuses one per name and options.
  registerBackend({ name: 'cpu', priority: 10, create: (o) => (checkOptionKeys('setBackend', o, ['tag']), createCpuBackend() as never) });
  registerBackend({ name: 'cpu64', priority: 0, create: (o) => (checkOptionKeys('setBackend', o, ['tag']), createCpu64Backend() as never) });
  // The fast CPU backend (WebAssembly SIMD on every core the host gives it): the library default.
  // `cpu` stays the readable reference every backend is tested against.
  registerBackend({
    name: 'wasm',
    priority: 20,
    create: (o) => {
      checkOptionKeys('setBackend', o, ['threads', 'winograd', 'fma', 'tag']);
      return createWasmBackend(o as { threads?: number; winograd?: boolean; fma?: boolean }) as never;
    },
  });
  registerBackend({ name: 'gpujs', priority: -10, create: gpujs });
}
