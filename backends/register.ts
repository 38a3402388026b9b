/** Registers the built-in backends with the core's registry. Imported for its effect. */
import { registerBackend } from '../core/backend.js';
import { createCpu64Backend, createCpuBackend } from './cpu/backend.js';

registerBackend({ name: 'cpu', priority: 10, create: () => createCpuBackend() as never });
registerBackend({ name: 'cpu64', priority: 0, create: () => createCpu64Backend() as never });
