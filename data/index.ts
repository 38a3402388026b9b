/**
 * Datasets and loaders: the synthetic sets (WMH-like slices `wmh-v1`, WMH-like volumes `wmh`,
 * vessel trees), PNG and NIfTI codecs, slice folders and NIfTI volumes, nnU-Net v2 raw datasets,
 * grouping slices by volume, resizing, batching and the distance-map cache. Importing this module
 * registers the built-in backends.
 */
import '../backends/register.js';

export { signedDistanceMap, signedDistanceMaps } from '../losses/distance.js';
export type { Dataset, DatasetSplit, Slice } from './types.js';
export { syntheticDataset, type SyntheticOptions } from './synthetic.js';
export { syntheticWmh, type LesionSizeStats, type SyntheticWmhDataset, type SyntheticWmhOptions, type SyntheticWmhStats } from './synthetic-wmh.js';
export { syntheticVessels, type SyntheticVesselsDataset, type SyntheticVesselsOptions, type SyntheticVesselsStats, type WidthBin } from './synthetic-vessels.js';
export { groupVolumes, type VolumeGroup } from './volumes.js';
export { LESION_SIZE_BINS, formatSizeHistogram, lesionStats, sizeHistogram, type LesionStats, type SizeBin } from './lesion-stats.js';
export { decodePng, encodePng, type DecodePngOptions, type RasterImage } from './png.js';
export { readNifti, writeNifti, type NiftiOutput, type NiftiVolume } from './nifti.js';
export { writeFileAtomic, FileWriteError } from '../core/files.js';
export { MAX_INFLATED_BYTES, MAX_PNG_SAMPLES, MAX_VOXELS, PNG_INFLATE_SLACK, NIFTI_INFLATE_SLACK } from './limits.js';
export { resizeBilinear, resizeNearest } from './resize.js';
export { planeShape, slicePlane, stackPlanes, type VolumeAxis } from './volume-slices.js';
export {
  MAX_INFERRED_CLASSES,
  groupImageCases,
  listImageFiles,
  loadDataset,
  loadImageFile,
  loadLabels,
  type ImageCase,
  type LabelFormat,
  type LoadOptions,
  type LoadedImage,
  type LoadedLabels,
} from './folders.js';
export {
  NNUNET_FILE_ENDINGS,
  isNnunetFolder,
  loadNnunetDataset,
  parseDatasetJson,
  parseSplits,
  readSplits,
  type NnunetDescription,
  type NnunetFileEnding,
  type NnunetFold,
  type NnunetOptions,
} from './nnunet.js';
export { DistanceMapCache, type DistanceMapCacheOptions } from './distance-cache.js';
export { batchOrder, makeBatch, type Batch } from './batches.js';
export {
  AFFINE_MAX_ANGLE_DEGREES, AFFINE_PROBABILITY, AFFINE_SCALE_RANGE, AUGMENT_NAMES, FLIP_PROBABILITY, GAMMA_PROBABILITY, GAMMA_RANGE, INTENSITY_PROBABILITY,
  INTENSITY_SCALE_RANGE, INTENSITY_SHIFT_RANGE, NOISE_PROBABILITY, NOISE_SIGMA_RANGE, affineSlice, augmentSlice, checkAugmentList, flipSlice, gammaSlice,
  intensitySlice, isGeometric, noiseSlice, rot90Slice, type AugmentName, type AugmentedSlice, type BatchAugment, type SliceShape,
} from './augment.js';
