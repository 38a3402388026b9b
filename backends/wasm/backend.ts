/**
 * The `wasm` backend in Node (see `create.ts`): importing this module registers Node's host
 * (`core/host-node.ts`), so that a backend created here runs on worker threads. The browser
 * registration imports `create.ts` itself, which imports nothing from Node.
 */
import '../../core/host-node.js';

export * from './create.js';
