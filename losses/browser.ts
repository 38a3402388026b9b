/**
 * `boundary-seg/losses` in a browser: the whole API of the Node entry (`index.ts`): distance
 * transforms, signed distance maps, the differentiable losses, their checks and the schedules.
 * Importing this module registers the built-in backends for a browser.
 */
import '../backends/register-browser.js';

export * from './distance.js';
export * from './tensor-losses.js';
