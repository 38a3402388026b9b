/** The conformance suite on gpujs:webgpu: WebGPU through Dawn (webgpu@0.4.0); skipped visibly where no adapter answers. */
import { gpujsConformance } from './conformance-gpujs.js';

await gpujsConformance('webgpu', { tolerance: 1e-4, pool: 3, numRuns: 4 });
