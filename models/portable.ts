/**
 * The part of `models/` that runs on any platform (Node or a browser): everything of
 * `boundary-seg/models` but checkpoint files. It registers no backend: the entry points
 * (`index.ts` for Node, `browser.ts`) do.
 */
export { adam, sgd, type Optimizer, type AdamOptions, type AdamState, type SgdOptions, type SgdState } from './optim.js';
export { conv, convTranspose, norm, activate, pool2, drop, classProbabilities, type ConvLayerParams, type ConvTransposeLayerParams, type Activation } from './layers.js';
export { initFilter, initConv, initConvTranspose, type InitScheme } from './init.js';
export { namedLeaves, countScalars, type Model, type ApplyOptions } from './model.js';
export {
  unet, checkUNetConfig, unetParameterCount,
  type UNet, type UNetConfig, type FullUNetConfig, type UNetParams, type UNetState, type DoubleConvParams, type DoubleConvState, type UpParams,
} from './unet.js';
export {
  referenceUNet, checkReferenceUNetConfig, referenceParameterShapes, referenceParameterCount, REFERENCE_UNET_CONFIG_KEYS,
  type ReferenceUNet, type ReferenceUNetConfig, type ReferenceUNetParams, type ReferenceUNetState,
  type ConvBatchParams, type ConvBatchState, type ConvPairParams, type ConvPairState, type ResidualParams, type ResidualState, type BridgeParams, type BridgeState,
} from './reference-unet.js';
export {
  modelFor, describeNetwork, checkNetworkConfig, networkArch, isReferenceConfig, networkInputMultiple, networkParameterCount, NETWORK_ARCHS, NETWORK_CONFIG_KEYS,
  type Network, type NetworkArch, type NetworkConfig, type FullNetworkConfig, type NetworkParams, type NetworkState, type ReferenceUNetConfigTagged,
} from './networks.js';
export { objective, lossTerm, lossNames, type Objective, type LossName, type LossInputs, type ScheduleSpec } from './objective.js';
export { lrStart, lrStep, type LrRule, type LrScheduleOptions, type LrState } from './lr-schedule.js';
export { trainDefaults, TrainConfigCodec, UNetConfigCodec, ReferenceUNetConfigCodec, NetworkConfigCodec, ScheduleSpecCodec, LossNameCodec, ScheduleNameCodec, type TrainConfig } from './train-config.js';
export { metricsCsv, parseMetricsCsv, sameRow, EpochRowCodec, DIAGNOSTIC_COLUMNS, classColumns, type EpochRow, type EpochClassRow } from './metrics-log.js';
export {
  collapsedFrom, isSaturated, learns, diagnose, SATURATION_THRESHOLD, LEARNS_THRESHOLD,
  type Diagnosis, type DiagnosticRow,
} from './diagnostics.js';
export {
  imageMetrics, imageClassMetrics, summarizeImages, summarizeClasses, evaluateSet, predictLabels,
  type ImageMetrics, type ImageClassMetrics, type EvalSummary, type EvaluateSetOptions, type SetEvaluation, type VolumeEvaluation, type VolumeSummary, type ClassEvaluation,
} from './evaluate.js';
export { trainingData, type TrainingBatch, type LabelledImage, type TrainingData, type VolumeRef } from './data-source.js';
export {
  train, checkConfigFitsData, configDifferences,
  type TrainOptions, type TrainResult, type StepProgress, type EpochInfo,
} from './train.js';
export {
  CHECKPOINT_VERSION, READABLE_CHECKPOINT_VERSIONS, CHECKPOINT_CHECKSUM, METRICS_FILE,
  encodeCheckpoint, decodeCheckpoint, restoreCheckpoint,
  checkArchitecture,
  type Checkpoint, type CheckpointFile, type ResumeState, type OptimizerSnapshot,
} from './checkpoint-codec.js';
export { closed, JsonFloat } from './codecs.js';
