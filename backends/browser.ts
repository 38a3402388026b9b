/** The built-in backends in a browser (importing this module registers them: `register-browser.ts`). */
import './register-browser.js';

export { makeCpuBackend, createCpuBackend, createCpu64Backend } from './cpu/backend.js';
export type { CpuHandle, FloatArray } from './cpu/storage.js';
export { getBackend, setBackend, listBackends, registerBackend, type Backend, type KernelTable } from '../core/backend.js';
