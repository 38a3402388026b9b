/** Models, layers and optimizers. Importing this module registers the built-in backends. */
import '../backends/register.js';

export { adam, sgd, type Optimizer, type AdamOptions, type AdamState, type SgdOptions, type SgdState } from './optim.js';
