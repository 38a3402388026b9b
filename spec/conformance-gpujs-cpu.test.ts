/** The conformance suite on gpujs:cpu: gpu.js's CPUKernel (JavaScript, float64 arithmetic, float32 storage). */
import { gpujsConformance } from './conformance-gpujs.js';

await gpujsConformance('cpu', { tolerance: 2e-5, pool: 8, numRuns: 12 });
