/**
 * The part of `data/` that runs on any platform (Node or a browser): the synthetic sets, grouping
 * slices by volume, lesion statistics, resizing, volume slicing, the distance-map cache, batching
 * and augmentation. It registers no backend: the entry points (`index.ts` for Node, `browser.ts`)
 * do. The PNG and NIfTI codecs (zlib), atomic files and the folder and nnU-Net loaders are Node's
 * (`index.ts`).
 */
export { signedDistanceMap, signedDistanceMaps } from '../losses/distance.js';
export type { Dataset, DatasetSplit, Slice } from './types.js';
export { syntheticDataset, type SyntheticOptions } from './synthetic.js';
export { syntheticWmh, type LesionSizeStats, type SyntheticWmhDataset, type SyntheticWmhOptions, type SyntheticWmhStats } from './synthetic-wmh.js';
export { syntheticVessels, type SyntheticVesselsDataset, type SyntheticVesselsOptions, type SyntheticVesselsStats, type WidthBin } from './synthetic-vessels.js';
export { groupVolumes, type VolumeGroup } from './volumes.js';
export { LESION_SIZE_BINS, formatSizeHistogram, lesionStats, sizeHistogram, type LesionStats, type SizeBin } from './lesion-stats.js';
export { resizeBilinear, resizeNearest } from './resize.js';
export { planeShape, slicePlane, stackPlanes, type VolumeAxis } from './volume-slices.js';
export { DistanceMapCache, type DistanceMapCacheOptions } from './distance-cache.js';
export { batchOrder, makeBatch, type Batch } from './batches.js';
export {
  AFFINE_MAX_ANGLE_DEGREES, AFFINE_PROBABILITY, AFFINE_SCALE_RANGE, AUGMENT_NAMES, FLIP_PROBABILITY, GAMMA_PROBABILITY, GAMMA_RANGE, INTENSITY_PROBABILITY,
  INTENSITY_SCALE_RANGE, INTENSITY_SHIFT_RANGE, NOISE_PROBABILITY, NOISE_SIGMA_RANGE, affineSlice, augmentSlice, checkAugmentList, flipSlice, gammaSlice,
  intensitySlice, isGeometric, noiseSlice, rot90Slice, type AugmentName, type AugmentedSlice, type BatchAugment, type SliceShape,
} from './augment.js';
