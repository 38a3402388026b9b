/** The conformance suite on the fast CPU backend (`wasm`: WebAssembly SIMD, two threads). */
import { conformanceSuite } from './conformance/suite.js';

conformanceSuite({ backend: 'wasm', tolerance: 1e-4, numRuns: 25 });
