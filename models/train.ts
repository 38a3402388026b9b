/**
 * The training loop: mini-batch steps with the loss weights of each epoch's schedule, validation
 * after every epoch, the learning-rate rule, the best (highest mean validation Dice) and last
 * checkpoints, and `metrics.csv`. All randomness derives from `key(seed)`: initialisation from
 * `foldIn(root, 0)`, the epoch's shuffle from `foldIn(foldIn(root, 1), epoch)`, a step's dropout
 * from `foldIn(foldIn(root, 2), step)`, the augmentation of training slice i in epoch e (when
 * `config.augment` asks for it) from `foldIn(foldIn(foldIn(root, 3), e), i)` — so the random state
 * to checkpoint is (seed, epoch, step), and a run resumed from its last checkpoint ends
 * bit-identical to one never interrupted.
 */
import { dispose, scope } from '../core/engine.js';
import { InputError } from '../core/errors.js';
import { getHost, type HostFiles } from '../core/host.js';
import { checkOptionKeys } from '../core/options.js';
import { softmax } from '../core/nn.js';
import { alias, argmax, concat, max, reshape, slice, stack } from '../core/ops.js';
import { treeMap } from '../core/tree.js';
import { foldIn, key, type RandomKey } from '../core/random.js';
import { valueAndGrad } from '../core/autodiff.js';
import { jit } from '../core/jit.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorLike } from '../core/ops.js';
import { encodeCheckpoint, METRICS_FILE, type Checkpoint, type OptimizerSnapshot } from './checkpoint-codec.js';
import { checkBatchLabels, checkBatchTarget, type BatchPlace, type TrainingBatch, type TrainingData } from './data-source.js';
import { AUGMENT_NAMES, checkAugmentList, type AugmentName, type BatchAugment } from '../data/augment.js';
import { imageClassMetrics, imageMetrics, summarizeClasses, summarizeImages, type ImageClassMetrics, type ImageMetrics } from './evaluate.js';
import { splitSliceScores } from '../metrics/lesions.js';
import { lrStart, lrStep, type LrState } from './lr-schedule.js';
import { metricsCsv, type EpochRow } from './metrics-log.js';
import { objective, type Objective } from './objective.js';
import { adam, sgd, type AdamState, type Optimizer, type SgdState, type Slots } from './optim.js';
import { trainDefaults, type TrainConfig } from './train-config.js';
import { comparableNetworkConfig, isReferenceConfig, modelFor, networkInputMultiple, type Network, type NetworkParams, type NetworkState } from './networks.js';

/** Progress after one optimizer step. */
export interface StepProgress {
  /** 0-based epoch. */
  readonly epoch: number;
  readonly epochs: number;
  /** 0-based step within the epoch. */
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  /** The step's weighted loss. */
  readonly loss: number;
}

/** What `onEpoch` is told besides the row. */
export interface EpochInfo {
  /** The epoch set a new best mean validation Dice. */
  readonly improved: boolean;
  /** Wall time of the epoch, validation included. */
  readonly seconds: number;
  /** Per-image validation metrics of the epoch. */
  readonly images: readonly ImageMetrics[];
  /** The predicted class-index maps [H, W] (argmax) of the validation images, in the order of `data.val`. */
  readonly predictions: readonly Uint8Array[];
}

/** Options of `train`. */
export interface TrainOptions {
  /** Continue from a `last` checkpoint (its config must be `config`, `epochs` aside). */
  readonly resume?: Checkpoint;
  /**
   * Folder that receives `best.ckpt`, `last.ckpt` and `metrics.csv` after each epoch. Needs the
   * host's files (Node's: see `getHost`); in a browser leave it out (the result holds the
   * parameters, and `encodeCheckpoint` makes a checkpoint's bytes).
   */
  readonly dir?: string;
  readonly onStep?: (progress: StepProgress) => void;
  /** After each epoch (and its files): return 'stop' to end the run there. */
  readonly onEpoch?: (row: EpochRow, info: EpochInfo) => void | 'stop' | Promise<void | 'stop'>;
  /**
   * Compile the training step (forward, losses, backward, optimizer) and the validation forward
   * with `jit` (default true). An execution option, not part of the run's configuration: the
   * results are bit-identical either way, so a run started with jit may resume without it.
   */
  readonly jit?: boolean;
}

/** The outcome of `train`. Its tensors belong to the caller (`dispose(result)` frees them all). */
export interface TrainResult {
  readonly model: Network;
  readonly config: TrainConfig;
  readonly rows: readonly EpochRow[];
  /** The parameters and state after the last epoch run. */
  readonly params: NetworkParams;
  readonly state: NetworkState;
  /** The epoch (0-based; files and messages count from 1) of highest mean validation Dice and its parameters (the best checkpoint). */
  readonly best: { readonly epoch: number; readonly score: number; readonly params: NetworkParams; readonly state: NetworkState };
  /** False when `onEpoch` stopped the run early. */
  readonly completed: boolean;
}

type OptState = AdamState<NetworkParams> | SgdState<NetworkParams>;

const TRAIN_OPTION_KEYS: readonly (keyof TrainOptions)[] = ['resume', 'dir', 'onStep', 'onEpoch', 'jit'];
const TRAIN_CONFIG_KEYS: readonly string[] = ['model', ...Object.keys(trainDefaults), 'gdlWeights', 'augment'];

const STREAM_INIT = 0;
const STREAM_SHUFFLE = 1;
const STREAM_DROPOUT = 2;
/** A stream nothing else draws from, so runs without augmentation keep their bits. */
const STREAM_AUGMENT = 3;

/**
 * The augmentation of the training slices `indices` in `epoch`: slice i gets the key
 * `foldIn(foldIn(augmentRoot, epoch), i)`, a function of the seed, the epoch and the slice alone
 * (so a resumed run augments as an uninterrupted one). Undefined without augmentation.
 */
function augmentOf(names: readonly AugmentName[], augmentRoot: RandomKey, epoch: number, indices: readonly number[]): BatchAugment | undefined {
  if (names.length === 0) return undefined;
  const epochKey = foldIn(augmentRoot, epoch);
  return { names, keys: indices.map((i) => foldIn(epochKey, i)) };
}

/** A training batch, augmented when `augment` is given (the data's `batch` is called with two arguments otherwise). */
function trainBatch(data: TrainingData, indices: readonly number[], augment: BatchAugment | undefined): TrainingBatch {
  return augment === undefined ? data.batch('train', indices) : data.batch('train', indices, augment);
}

/**
 * The transforms of `config.augment` (in the order of application), checked against the data.
 *
 * @throws InputError (`config.augment`) for an unknown or repeated name, or data that cannot augment.
 */
function checkAugment(config: TrainConfig, data: TrainingData): AugmentName[] {
  if (config.augment === undefined) return [];
  const names = checkAugmentList(config.augment, 'train', 'config.augment');
  if (names.length > 0 && data.canAugment !== true) {
    throw new InputError('train', 'config.augment', `the config asks for augmentation (${names.join(', ')}) but the training data cannot augment: its batch() must apply its augment argument and the data must say so with canAugment: true (as trainingData(dataset) does)`);
  }
  return names;
}

/**
 * Checks that a config fits the data: channels, classes, image size divisible by 2^depth (by 8
 * for the reference network), at least one training image and one validation image.
 *
 * @throws InputError naming the field.
 */
export function checkConfigFitsData(config: TrainConfig, data: Pick<TrainingData, 'channels' | 'classes' | 'height' | 'width' | 'trainSize' | 'val'>): void {
  const m = config.model;
  if (m.inChannels !== data.channels) throw new InputError('train', 'model.inChannels', `the model takes ${m.inChannels} channel(s) but the images have ${data.channels}`);
  if (m.classes !== data.classes) throw new InputError('train', 'model.classes', `the model predicts ${m.classes} classes but the labels have ${data.classes}`);
  const f = networkInputMultiple(m);
  if (data.height % f !== 0 || data.width % f !== 0) {
    throw isReferenceConfig(m)
      ? new InputError('train', 'model.arch', `images of ${data.height}×${data.width} are not divisible by 8 (the reference network halves them three times)`)
      : new InputError('train', 'model.depth', `images of ${data.height}×${data.width} are not divisible by 2^depth = ${f} (depth ${m.depth})`);
  }
  if (data.trainSize < 1) throw new InputError('train', 'data', 'no training images');
  if (data.val.length < 1) throw new InputError('train', 'data', 'no validation images');
}

function makeOptimizer(config: TrainConfig): Optimizer<NetworkParams, OptState> {
  return (config.optimizer === 'adam'
    ? adam<NetworkParams>({ learningRate: config.learningRate, beta1: config.beta1, beta2: config.beta2, epsilon: 1e-8 })
    : sgd<NetworkParams>({ learningRate: config.learningRate, momentum: config.momentum })) as Optimizer<NetworkParams, OptState>;
}

function snapshotOptimizer(name: 'adam' | 'sgd', s: OptState): OptimizerSnapshot {
  return name === 'adam'
    ? { name, step: s.step, m: (s as AdamState<NetworkParams>).m, v: (s as AdamState<NetworkParams>).v }
    : { name, step: s.step, velocity: (s as SgdState<NetworkParams>).velocity };
}

function optimizerFromSnapshot(o: OptimizerSnapshot): OptState {
  return o.name === 'adam' ? { step: o.step, m: o.m, v: o.v } : { step: o.step, velocity: o.velocity };
}

/** JSON text with object keys sorted, for comparing configs whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v);
}

/**
 * The fields (`epochs` aside: a resumed run may be extended) in which two training configs
 * differ, e.g. `['learningRate', 'model']`.
 */
export function configDifferences(a: TrainConfig, b: TrainConfig): string[] {
  // Optional fields mean their default when absent (configs written before they existed).
  // The augmentation is a set applied in a fixed order: absent = none, and the order given does not matter.
  const full = (c: TrainConfig): TrainConfig => ({
    ...c, model: comparableNetworkConfig(c.model), gdlWeights: c.gdlWeights ?? 'reference',
    augment: [...(c.augment ?? [])].sort((p, q) => AUGMENT_NAMES.indexOf(p) - AUGMENT_NAMES.indexOf(q)),
  });
  const [x, y] = [full(a), full(b)];
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])] as (keyof TrainConfig)[];
  return keys.filter((k) => k !== 'epochs' && canonical(x[k]) !== canonical(y[k]));
}

/** A tree of new tensors sharing the values (and, where the backend can, the storage) of `tree`. */
function aliasTree<T>(tree: T): T {
  return scope(() => treeMap(tree, (t) => alias(t, 'train')));
}

/** Indices 0 … n − 1 in chunks of `size`. */
function chunks(n: number, size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i += size) out.push(Array.from({ length: Math.min(size, n - i) }, (_, j) => i + j));
  return out;
}

/**
 * The validation forward of one batch: the weighted loss, the predicted labels, and the largest
 * foreground probability of the batch (a scalar).
 */
type ValidationForward = (params: NetworkParams, state: NetworkState, images: Tensor, target: Tensor, distMaps: Tensor, weights: readonly TensorLike[]) => [Tensor, Tensor, Tensor];

/**
 * The validation forward, in evaluation mode. The largest foreground probability is the maximum
 * over the batch's pixels and the foreground classes 1 … K − 1 (class 0 when K = 1) of the
 * softmax itself, in the backend's float32: not 1 − p₀, which rounds to 0 long before p₁ does, so
 * a saturated softmax (`isSaturated`) is told apart from a merely confident one.
 */
function validationForward(model: Network, obj: Objective): ValidationForward {
  return (params, state, images, target, distMaps, weights) => {
    const [logits] = model.apply(params, state, images, { training: false });
    const probs = softmax(logits, 1);
    const total = obj.combine(obj.terms({ logits, probs, target, distMaps }), weights);
    const [b, k, h, w] = probs.shape as [number, number, number, number];
    const foreground = k > 1 ? slice(probs, [0, 1, 0, 0], [b, k - 1, h, w]) : probs;
    return [total, argmax(logits, 1), max(foreground)];
  };
}

/** What one training step returns: the loss and its terms, and the new trees. */
type StepResult = [values: Tensor, params: NetworkParams, state: NetworkState, slots: Slots<OptState>];

/**
 * One training step as a pure function of tensors, numbers and a key, so that `jit` compiles it
 * once for every step: the batch, the loss weights, the optimizer's scalars (step size and bias
 * corrections, computed on the host from the step count) and the dropout key are arguments.
 */
type TrainingStep = (params: NetworkParams, state: NetworkState, slots: Slots<OptState>, images: Tensor, target: Tensor, distMaps: Tensor,
  weights: readonly TensorLike[], scalars: readonly TensorLike[], dropoutKey: RandomKey) => StepResult;

function trainingStep(model: Network, obj: Objective, opt: Optimizer<NetworkParams, OptState>): TrainingStep {
  return (params, state, slots, images, target, distMaps, weights, scalars, dropoutKey) => {
    const [[total, aux], grads] = valueAndGrad((p: NetworkParams) => {
      const [logits, next] = model.apply(p, state, images, { training: true, key: dropoutKey });
      const probs = softmax(logits, 1);
      const terms = obj.terms({ logits, probs, target, distMaps });
      return [obj.combine(terms, weights), { state: next, terms: stack(terms) }] as const;
    }, { hasAux: true })(params);
    const [np, ns] = opt.apply(params, grads, slots, scalars);
    return [concat([reshape(total, [1]), aux.terms], 0), np, aux.state, ns];
  };
}

/**
 * Validation: the weighted loss (mean over images), per-image metrics (and, for data of K ≥ 3
 * classes, each image's per-class metrics) and the largest foreground probability over every
 * pixel, in evaluation mode. Every batch's labels are checked on the host.
 */
async function validate(forward: ValidationForward, params: NetworkParams, state: NetworkState, data: TrainingData, weights: readonly number[], batchSize: number, epoch: number): Promise<{ loss: number; images: ImageMetrics[]; predictions: Uint8Array[]; classImages?: ImageClassMetrics[][]; maxForegroundProb: number }> {
  let lossSum = 0;
  let maxForegroundProb = -Infinity;
  const images: ImageMetrics[] = [];
  const predictions: Uint8Array[] = [];
  const classImages: ImageClassMetrics[][] = [];
  const hw = data.height * data.width;
  for (const [batch, idx] of chunks(data.val.length, batchSize).entries()) {
    const b = data.batch('val', idx);
    checkLabelsOf(b, data, { split: 'val', indices: idx, epoch, batch });
    const [loss, pred, fg] = scope(() => forward(params, state, b.images, b.target, b.distMaps, weights));
    dispose([b.images, b.target, b.distMaps]);
    const [lv, pv, fv] = await Promise.all([loss.data(), pred.data(), fg.data()]);
    dispose([loss, pred, fg]);
    lossSum += lv[0]! * idx.length;
    // NaN (a non-finite forward) wins, so it is seen rather than skipped
    maxForegroundProb = Number.isNaN(fv[0]!) || Number.isNaN(maxForegroundProb) ? NaN : Math.max(maxForegroundProb, fv[0]!);
    idx.forEach((i, j) => {
      const pred = Uint8Array.from(pv.subarray(j * hw, (j + 1) * hw));
      const perClass = imageClassMetrics(data.val[i]!, pred, data.classes);
      images.push(imageMetrics(data.val[i]!, pred, data.classes, perClass));
      predictions.push(pred);
      classImages.push(perClass);
    });
  }
  return { loss: lossSum / data.val.length, images, predictions, ...(data.classes >= 3 ? { classImages } : {}), maxForegroundProb };
}

/**
 * Checks the first training batch of the run (its indices `trainIndices`) and the first
 * validation batch, labels and targets (`checkBatchLabels`, `checkBatchTarget`), before anything
 * is allocated: a dataset whose targets are not one-hot is refused before any step runs. The
 * training batch is augmented as its first step will be (`augment`).
 */
async function checkFirstBatches(data: TrainingData, trainIndices: readonly number[], batchSize: number, epoch: number, augment: BatchAugment | undefined): Promise<void> {
  const first: ReadonlyArray<readonly ['train' | 'val', readonly number[]]> = [['train', trainIndices], ['val', chunks(data.val.length, batchSize)[0]!]];
  for (const [split, indices] of first) {
    const b = split === 'train' ? trainBatch(data, indices, augment) : data.batch(split, indices);
    const place: BatchPlace = { split, indices, epoch, batch: 0 };
    try {
      checkBatchLabels(b, data, place);
      await checkBatchTarget(b, data, place);
    } finally {
      dispose([b.images, b.target, b.distMaps]);
    }
  }
}

/** `checkBatchLabels` of a batch a dataset handed out, disposing the batch's tensors when it is refused. */
function checkLabelsOf(b: TrainingBatch, data: TrainingData, place: BatchPlace): void {
  try {
    checkBatchLabels(b, data, place);
  } catch (e) {
    dispose([b.images, b.target, b.distMaps]);
    throw e;
  }
}

/**
 * The host's files for the run folder `dir` (undefined without `dir`).
 *
 * @throws InputError (`options.dir`) where the host has no files (a browser page: `core/host.ts`).
 */
function runFolderFiles(dir: string | undefined): HostFiles | undefined {
  if (!dir) return undefined;
  const files = getHost().files;
  if (!files) {
    throw new InputError('train', 'options.dir', 'a run folder (best.ckpt, last.ckpt, metrics.csv) needs a file system, which only Node provides here: omit dir (the result holds the parameters; encodeCheckpoint gives a checkpoint\'s bytes)');
  }
  return files;
}

/**
 * Trains the network of `config.model` (`modelFor`: a U-Net or the reference network) on `data`
 * as `config` says, or continues a run from `options.resume`. Everything that happens is a function of the config and the data, so two runs with one seed
 * give bit-identical parameters and rows.
 *
 * The batches `data` hands out are checked before they are used: every batch's labels on the host
 * (class indices below `data.classes`), and, before anything else is done, the targets of the
 * run's first training and first validation batches (shape [B, K, H, W], one-hot:
 * `checkBatchTarget`), so a dataset whose targets are not one-hot is refused before any step runs.
 *
 * @example
 * import { syntheticWmh, trainingData, train, trainDefaults, type TrainConfig } from 'boundary-seg';
 *
 * const ds = syntheticWmh({ seed: 0, trainSlices: 8, valSlices: 4, size: 32 });
 * const config: TrainConfig = {
 *   ...trainDefaults, epochs: 2, batchSize: 4, losses: ['gdl', 'boundary'], schedule: { name: 'rebalance' },
 *   model: { inChannels: ds.channels, classes: ds.classes, base: 4, depth: 2, batchNorm: true },
 * };
 * const { best, rows } = await train(config, trainingData(ds, { convention: 'interface' }));
 * console.log(`best epoch ${best.epoch + 1}: DSC ${rows[best.epoch]!.valDice.toFixed(3)}`); // epochs are 0-based in the library
 *
 * @throws InputError when `config` or `options` has an unknown key, when the config does not fit
 * the data, when a batch's labels or target are refused (naming the image), when a resumed
 * checkpoint's config differs from `config` (beyond `epochs`), when `config.augment` has an
 * unknown or repeated name or `data` cannot augment (`canAugment`), or when the training loss
 * becomes non-finite; when `options.dir` is given where the host has no files (a browser).
 */
export async function train(config: TrainConfig, data: TrainingData, options: TrainOptions = {}): Promise<TrainResult> {
  if (config === null || typeof config !== 'object') throw new InputError('train', 'config', 'expected a TrainConfig object');
  checkOptionKeys('train', config, TRAIN_CONFIG_KEYS, 'config');
  checkOptionKeys('train', options, TRAIN_OPTION_KEYS);
  const files = runFolderFiles(options.dir);
  checkConfigFitsData(config, data);
  const augmentNames = checkAugment(config, data);
  const model = modelFor(config.model);
  const obj = objective(config.losses, config.schedule, data.classes, { gdlWeights: config.gdlWeights ?? 'reference' });
  const opt = makeOptimizer(config);
  const root: RandomKey = key(config.seed);
  const augmentRoot = foldIn(root, STREAM_AUGMENT);
  const lrOptions = { rule: config.lrRule, patience: config.lrPatience } as const;
  const firstEpoch = options.resume?.epoch ?? 0;
  if (firstEpoch < config.epochs) {
    const order = data.batchOrder(data.trainSize, config.batchSize, foldIn(foldIn(root, STREAM_SHUFFLE), firstEpoch), config.shuffle);
    await checkFirstBatches(data, order[0]!, config.batchSize, firstEpoch, augmentOf(augmentNames, augmentRoot, firstEpoch, order[0]!));
  }

  let params: NetworkParams;
  let state: NetworkState;
  let optState: OptState;
  let lr: LrState;
  let step: number;
  const rows: EpochRow[] = [];
  let best: { epoch: number; score: number; params: NetworkParams; state: NetworkState };

  const r = options.resume?.resume;
  if (options.resume) {
    if (!r) throw new InputError('train', 'resume', 'a best checkpoint cannot be resumed: use last.ckpt');
    const differs = configDifferences(r.config, config);
    if (differs.length > 0) throw new InputError('train', 'resume', `the checkpoint was written by a run with another ${differs.join(', ')}`);
    params = options.resume.params;
    state = options.resume.state;
    optState = optimizerFromSnapshot(r.optimizer);
    lr = r.lr;
    step = r.step;
    if (r.rows?.length !== options.resume.epoch) throw new InputError('train', 'resume', `the checkpoint was written after epoch ${options.resume.epoch} but ${r.rows?.length ?? 'no'} metrics rows came with it (a last checkpoint reads them from the metrics.csv beside it: loadCheckpoint)`);
    rows.push(...r.rows);
    const bestRow = rows[lr.bestEpoch];
    best = { epoch: lr.bestEpoch, score: bestRow ? bestRow.valDice : -Infinity, params: r.best?.params ?? params, state: r.best?.state ?? state };
  } else {
    ({ params, state } = model.init(foldIn(root, STREAM_INIT)));
    optState = opt.init(params);
    lr = lrStart(config.learningRate);
    step = 0;
    best = { epoch: -1, score: -Infinity, params, state };
  }

  const useJit = options.jit ?? true;
  const eagerStep = trainingStep(model, obj, opt);
  // NOTE: the step donates its arguments (parameters, state, optimizer slots, batch): their
  // buffers are reused for the new trees. The best epoch's trees are kept by an alias instead.
  const jitStep = useJit ? jit(eagerStep, { donate: true }) : undefined;
  const jitForward = useJit ? jit(validationForward(model, obj)) : undefined;
  const step1 = jitStep ?? eagerStep;
  const forward = jitForward ?? validationForward(model, obj);

  const stepsPerEpoch = Math.ceil(data.trainSize / config.batchSize);
  /** Releases a replaced tree unless the best epoch still holds it. */
  const retire = (old: unknown, kept: unknown) => {
    if (old !== kept) dispose(old);
  };
  let completed = true;

  for (let epoch = rows.length; epoch < config.epochs; epoch++) {
    const t0 = performance.now();
    const weights = obj.weights(epoch, config.epochs);
    const order = data.batchOrder(data.trainSize, config.batchSize, foldIn(foldIn(root, STREAM_SHUFFLE), epoch), config.shuffle);
    const lossSums = new Float64Array(1 + obj.losses.length);
    for (let s = 0; s < order.length; s++) {
      const b = trainBatch(data, order[s]!, augmentOf(augmentNames, augmentRoot, epoch, order[s]!));
      checkLabelsOf(b, data, { split: 'train', indices: order[s]!, epoch, batch: s });
      const dropoutKey = foldIn(foldIn(root, STREAM_DROPOUT), step);
      const scalars = opt.scalars(optState.step, { learningRate: lr.lr });
      if (useJit && best.params === params) best = { ...best, params: aliasTree(params), state: aliasTree(state) };
      const { step: optStep, ...slots } = optState;
      const [values, p2, s2, o2] = scope(() => step1(params, state, slots as Slots<OptState>, b.images, b.target, b.distMaps, weights, scalars, dropoutKey));
      dispose([b.images, b.target, b.distMaps]);
      retire(params, best.params);
      retire(state, best.state);
      dispose(optState);
      params = p2;
      state = s2;
      optState = { ...o2, step: optStep + 1 } as OptState;
      step++;
      const v = await values.data();
      values.dispose();
      if (!Number.isFinite(v[0]!)) throw new InputError('train', 'loss', `the training loss became ${v[0]} at epoch ${epoch + 1}, step ${s + 1} of ${order.length} (lower --learning-rate?)`);
      for (let i = 0; i < v.length; i++) lossSums[i] += v[i]!;
      options.onStep?.({ epoch, epochs: config.epochs, stepInEpoch: s, stepsPerEpoch: order.length, loss: v[0]! });
    }

    const val = await validate(forward, params, state, data, weights, config.batchSize, epoch);
    const summary = summarizeImages(val.images);
    const split = splitSliceScores(val.images);
    const row: EpochRow = {
      epoch,
      lr: lr.lr,
      weights: [...weights],
      trainLoss: lossSums[0]! / order.length,
      trainTerms: Array.from(lossSums.subarray(1), (x) => x / order.length),
      valLoss: val.loss,
      valDice: summary.dice.mean,
      valHd: summary.hd.mean,
      valHd95: summary.hd95.mean,
      missed: summary.missed,
      falseAlarms: summary.falseAlarms,
      valPredForeground: val.images.filter((m) => m.predForeground).length,
      valMaxForegroundProb: val.maxForegroundProb,
      valLesionDice: split.lesionDice.mean,
      ...(val.classImages ? { perClass: summarizeClasses(val.classImages) } : {}),
    };
    rows.push(row);
    lr = lrStep(lrOptions, lr, epoch, row.valDice);
    const improved = row.valDice > best.score;
    if (improved) {
      if (best.params !== params) dispose([best.params, best.state]);
      best = { epoch, score: row.valDice, params, state };
    }

    if (files && options.dir) {
      const last: Checkpoint = {
        kind: 'last', epoch: epoch + 1, model: model.config, params, state,
        resume: {
          config, step, lr, rows: [...rows], optimizer: snapshotOptimizer(config.optimizer, optState),
          ...(best.params !== params ? { best: { params: best.params, state: best.state } } : {}),
        },
      };
      if (improved) await files.writeFileAtomic(files.join(options.dir, 'best.ckpt'), await encodeCheckpoint({ kind: 'best', epoch: epoch + 1, model: model.config, params, state }));
      await files.writeFileAtomic(files.join(options.dir, 'last.ckpt'), await encodeCheckpoint(last));
      await files.writeFileAtomic(files.join(options.dir, METRICS_FILE), metricsCsv(config.losses, rows, data.classes));
    }
    const seconds = (performance.now() - t0) / 1000;
    if ((await options.onEpoch?.(row, { improved, seconds, images: val.images, predictions: val.predictions })) === 'stop' && epoch + 1 < config.epochs) {
      completed = false;
      break;
    }
  }
  dispose(optState);
  jitStep?.clear();
  jitForward?.clear();
  return { model, config, rows, params, state, best: { ...best }, completed };
}
