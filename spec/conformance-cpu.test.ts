/** The conformance suite on the float32 reference backend. */
import { conformanceSuite } from './conformance/suite.js';

conformanceSuite({ backend: 'cpu', tolerance: 2e-5, numRuns: 25 });
