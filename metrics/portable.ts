/**
 * The public API of `metrics/` (see `index.ts`): it runs on any platform and registers no
 * backend (the entry points, `index.ts` for Node and `browser.ts`, do).
 */
export { surface, surfaceDistances, type SpacingOptions, type SurfaceDistances } from './surface.js';
export { dice } from './dice.js';
export { hausdorff, hausdorff95, percentile, type Hausdorff95Options, type Hausdorff95Variant } from './hausdorff.js';
export {
  averageSurfaceDistance,
  surfaceDice,
  type AverageSurfaceDistanceOptions,
  type AverageSurfaceDistanceVariant,
  type SurfaceDiceOptions,
} from './surface-distance.js';
export { perClass, type MaskMetric } from './per-class.js';
export { summarize, type Summary } from './summarize.js';
export {
  connectedComponents,
  lesionDetection,
  volumeMetrics,
  splitSliceScores,
  poolDetections,
  type Components,
  type Connectivity,
  type ConnectivityOptions,
  type LesionDetection,
  type LesionDetectionOptions,
  type SliceScore,
  type SplitSliceScores,
  type VolumeMetrics,
  type VolumeMetricsOptions,
} from './lesions.js';
export {
  pairedBootstrap,
  wilcoxonSignedRank,
  normalCdf,
  erfc,
  BOOTSTRAP_DEFAULTS,
  WILCOXON_EXACT_MAX_N,
  WILCOXON_EXACT_MAX_EXACT_N,
  type BootstrapOptions,
  type BootstrapInterval,
  type WilcoxonMethod,
  type WilcoxonOptions,
  type WilcoxonResult,
} from './stats.js';
export { groupVolumes, type VolumeGroup, type VolumeMember, type VolumeRef } from './volumes.js';
