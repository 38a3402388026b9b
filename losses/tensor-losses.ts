/**
 * The differentiable losses on tensors, their asynchronous value checks and the loss-weight
 * schedules (re-exported by `losses/index.ts`).
 */
export type { Reduction } from './loss-args.js';
export { boundaryLoss, type BoundaryLossOptions } from './boundary.js';
export {
  generalizedDiceLoss, diceLoss, tverskyLoss,
  type GeneralizedDiceOptions, type GeneralizedDiceWeights, type DiceLossOptions, type TverskyLossOptions,
} from './dice.js';
export {
  crossEntropy, crossEntropyWithLogits, focalLoss,
  type CrossEntropyOptions, type CrossEntropyWithLogitsOptions, type FocalLossOptions,
} from './cross-entropy.js';
export {
  checkProbabilities, checkOneHot, checkFinite,
  type CheckProbabilitiesOptions, type CheckOneHotOptions, type CheckFiniteOptions,
} from './checks.js';
export {
  rebalance, steal, constant, increase, schedules, scheduleNames, isScheduleName,
  type Schedule, type ScheduleName, type ScheduleOptions, type RebalanceOptions, type IncreaseOptions,
} from './schedules.js';
