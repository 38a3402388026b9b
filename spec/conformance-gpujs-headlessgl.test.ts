/** The conformance suite on gpujs:headlessgl: headless-gl (GLSL compiled and run by Mesa's llvmpipe under xvfb-run -a: software, never a GPU run). */
import { gpujsConformance } from './conformance-gpujs.js';

await gpujsConformance('headlessgl', { tolerance: 1e-4, pool: 6, numRuns: 8 });
