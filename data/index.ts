/**
 * Datasets and loaders: the synthetic sets (WMH-like slices `wmh-v1`, WMH-like volumes `wmh`,
 * vessel trees), PNG and NIfTI codecs, slice folders and NIfTI volumes, nnU-Net v2 raw datasets,
 * grouping slices by volume, resizing, batching and the distance-map cache. Importing this module
 * registers the built-in backends (and Node's host). What runs on any platform is in
 * `portable.ts`, which the browser entry (`browser.ts`) exports too; the rest (below) needs Node.
 */
import '../backends/register.js';

export * from './portable.js';
export { decodePng, encodePng, type DecodePngOptions, type RasterImage } from './png.js';
export { readNifti, writeNifti, type NiftiOutput, type NiftiVolume } from './nifti.js';
export { writeFileAtomic, FileWriteError } from '../core/files.js';
export { MAX_INFLATED_BYTES, MAX_PNG_SAMPLES, MAX_VOXELS, PNG_INFLATE_SLACK, NIFTI_INFLATE_SLACK } from './limits.js';
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
