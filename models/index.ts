/**
 * Models and training: layers as pure functions of parameter trees, the U-Net and the reference
 * network (one config tagged by `arch`, built by `modelFor`), initialisation,
 * optimizers, the learning-rate rule, the loss objective, the training loop, evaluation and
 * checkpoints. Importing this module registers the built-in backends (and Node's host: run folders
 * and worker threads). Everything but checkpoint files is in `portable.ts`, which the browser
 * entry (`browser.ts`) exports too.
 */
import '../backends/register.js';

export * from './portable.js';
export { readCheckpointFile, readRunRows, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
