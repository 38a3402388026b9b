/**
 * Public API of `losses/`: distance transforms and signed distance maps (synchronous
 * arrays), the differentiable losses, their value checks and the loss-weight schedules.
 * Importing this module registers the built-in backends (and Node's host); `browser.ts` is the same
 * API for a browser.
 */
import '../backends/register.js';

export * from './distance.js';
export * from './tensor-losses.js';
