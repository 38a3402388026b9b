/**
 * The array (non-tensor) half of `losses/`: plain `{ data, shape }` arrays, the exact Euclidean
 * distance transform and signed distance maps. Synchronous, host memory only.
 */
export type { NdArray, MaskArray, Float64NdArray, Float32NdArray } from './array.js';
export { edt, type EdtOptions } from './edt.js';
export {
  signedDistanceMap,
  signedDistanceMaps,
  type DistanceConvention,
  type SignedDistanceOptions,
  type SignedDistanceMapsOptions,
} from './signed-distance.js';
