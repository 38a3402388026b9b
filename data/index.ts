/**
 * Datasets and loaders (the training issue fills this in). Importing this module registers the
 * built-in backends.
 */
import '../backends/register.js';

export { signedDistanceMap, signedDistanceMaps } from '../losses/distance.js';
