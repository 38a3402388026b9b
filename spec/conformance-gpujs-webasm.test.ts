/** The conformance suite on gpujs:webasm: WebAssembly (float32 accumulation). */
import { gpujsConformance } from './conformance-gpujs.js';

await gpujsConformance('webasm', { tolerance: 1e-4, pool: 8, numRuns: 12 });
