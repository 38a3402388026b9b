/**
 * The built-in backends (importing this module registers them, and Node's host: `register.ts`);
 * `browser.ts` is the same API for a browser.
 */
import './register.js';

export { makeCpuBackend, createCpuBackend, createCpu64Backend } from './cpu/backend.js';
export type { CpuHandle, FloatArray } from './cpu/storage.js';
export { getBackend, setBackend, listBackends, registerBackend, type Backend, type KernelTable } from '../core/backend.js';
