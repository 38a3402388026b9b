/**
 * Segmentation quality of predicted label maps against ground truth, per image and summarised:
 * Dice on argmax masks (empty/empty = 1, the reference's convention), Hausdorff and HD95 in mm
 * (MONAI's per-direction HD95) over images where both masks are non-empty, and the counts of
 * missed lesion images and false alarms. NaN and infinities never enter a mean.
 *
 * `evaluateSet` adds the set-level views: the lesion-slice / empty-slice split, per-volume 3-D
 * metrics with lesion-wise detection (slices stacked by their `volume`), and per-class results.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { argmax } from '../core/ops.js';
import { scope } from '../core/engine.js';
import type { Tensor } from '../core/tensor.js';
import { dice } from '../metrics/dice.js';
import { hausdorff, hausdorff95 } from '../metrics/hausdorff.js';
import {
  poolDetections, splitSliceScores, volumeMetrics,
  type LesionDetection, type LesionDetectionOptions, type SplitSliceScores, type VolumeMetrics,
} from '../metrics/lesions.js';
import { summarize, type Summary } from '../metrics/summarize.js';
import { groupVolumes } from '../metrics/volumes.js';
import type { LabelledImage } from './data-source.js';
import { describeValue } from './codecs.js';
import type { EpochClassRow } from './metrics-log.js';
import type { Model } from './model.js';

/** The metrics of one image (foreground classes 1 … K − 1, averaged over classes). */
export interface ImageMetrics {
  readonly id: string;
  /** Mean Dice over the foreground classes (1 when a class is empty in both). */
  readonly dice: number;
  /** Mean Hausdorff distance (mm) over the classes present in both; NaN when none is. */
  readonly hd: number;
  /** Mean HD95 (mm) likewise. */
  readonly hd95: number;
  /** The ground truth has some foreground. */
  readonly gtForeground: boolean;
  /** The prediction has some foreground. */
  readonly predForeground: boolean;
}

/** Aggregate metrics of a set of images. */
export interface EvalSummary {
  readonly images: number;
  readonly dice: Summary;
  readonly hd: Summary;
  readonly hd95: Summary;
  /** Images with foreground in the ground truth and none predicted. */
  readonly missed: number;
  /** Images without foreground in the ground truth and some predicted. */
  readonly falseAlarms: number;
}

function hasForeground(labels: Uint8Array): boolean {
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) return true;
  return false;
}

function mask(labels: Uint8Array, k: number): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) m[i] = labels[i] === k ? 1 : 0;
  return m;
}

/** One foreground class of one image (see {@link imageClassMetrics}). */
export interface ImageClassMetrics {
  /** The class index (1 … K − 1; 0 when K = 1). */
  readonly class: number;
  /** Dice of the class's masks (1 when the class is absent from both). */
  readonly dice: number;
  /** Hausdorff distance and HD95 (mm) of the class's masks: NaN when neither has the class, +Infinity when one lacks it. */
  readonly hd: number;
  readonly hd95: number;
  /** The ground truth has the class. */
  readonly gtForeground: boolean;
  /** The prediction has the class. */
  readonly predForeground: boolean;
}

/**
 * Metrics of each foreground class (1 … K − 1; class 0 when K = 1) of one predicted label map
 * `pred` against `image.label`, both [H, W] class indices.
 */
export function imageClassMetrics(image: LabelledImage, pred: Uint8Array, classes: number): ImageClassMetrics[] {
  const shape = [image.height, image.width];
  const spacing = [...image.spacing];
  const out: ImageClassMetrics[] = [];
  for (let k = classes > 1 ? 1 : 0; k < classes; k++) {
    const p = { data: mask(pred, k), shape };
    const g = { data: mask(image.label, k), shape };
    out.push({
      class: k,
      dice: dice(p, g),
      hd: hausdorff(p, g, { spacing }),
      hd95: hausdorff95(p, g, { spacing }),
      gtForeground: hasForeground(g.data),
      predForeground: hasForeground(p.data),
    });
  }
  return out;
}

/**
 * Metrics of one predicted label map `pred` against `image.label`, both [H, W] class indices:
 * the means over the foreground classes of {@link imageClassMetrics}.
 *
 * @param perClass the image's `imageClassMetrics`, when the caller has them already.
 */
export function imageMetrics(image: LabelledImage, pred: Uint8Array, classes: number, perClass: readonly ImageClassMetrics[] = imageClassMetrics(image, pred, classes)): ImageMetrics {
  return {
    id: image.id,
    dice: summarize(perClass.map((c) => c.dice)).mean,
    hd: summarize(perClass.map((c) => c.hd)).mean,
    hd95: summarize(perClass.map((c) => c.hd95)).mean,
    gtForeground: hasForeground(image.label),
    predForeground: hasForeground(pred),
  };
}

/** Summarises per-image metrics (means skip NaN and ±Infinity). */
export function summarizeImages(metrics: readonly ImageMetrics[]): EvalSummary {
  return {
    images: metrics.length,
    dice: summarize(metrics.map((m) => m.dice)),
    hd: summarize(metrics.map((m) => m.hd)),
    hd95: summarize(metrics.map((m) => m.hd95)),
    missed: metrics.filter((m) => m.gtForeground && !m.predForeground).length,
    falseAlarms: metrics.filter((m) => !m.gtForeground && m.predForeground).length,
  };
}

/**
 * Summarises the per-class metrics of a set of images (`perImage[i]`: image i's
 * {@link imageClassMetrics}, the same classes for every image) per class: mean Dice, mean HD95
 * (finite values only: over the images where both masks have the class; NaN when none does), the images whose ground
 * truth has the class and whose prediction lacks it (`missed`), and the images without the class
 * that predict some of it (`falseAlarms`). Empty when `perImage` is.
 *
 * @throws InputError naming `perImage[i]` when an image lists other classes than the first.
 */
export function summarizeClasses(perImage: readonly (readonly ImageClassMetrics[])[]): EpochClassRow[] {
  const first = perImage[0] ?? [];
  perImage.forEach((list, i) => {
    if (list.length !== first.length || list.some((c, j) => c.class !== first[j]!.class)) {
      throw new InputError('summarizeClasses', `perImage[${i}]`, `lists the classes [${list.map((c) => c.class).join(', ')}] but perImage[0] lists [${first.map((c) => c.class).join(', ')}]`);
    }
  });
  return first.map((c, j) => {
    const of = perImage.map((list) => list[j]!);
    return {
      class: c.class,
      dice: summarize(of.map((m) => m.dice)).mean,
      hd95: summarize(of.map((m) => m.hd95)).mean,
      missed: of.filter((m) => m.gtForeground && !m.predForeground).length,
      falseAlarms: of.filter((m) => !m.gtForeground && m.predForeground).length,
    };
  });
}

/** Options of {@link evaluateSet}: how lesions are found (see `lesionDetection`). */
export type EvaluateSetOptions = LesionDetectionOptions;

/** One volume's metrics in {@link evaluateSet}. */
export interface VolumeEvaluation {
  /** The volume's id (`slice.volume.id`), or the slice's id for a slice without `volume`. */
  readonly id: string;
  /** Number of slices stacked. */
  readonly slices: number;
  /** The ids of those slices, in stacking order. */
  readonly sliceIds: readonly string[];
  /** Voxel size [stacking axis (thickness ?? 1), along H, along W] in mm. */
  readonly spacing: readonly [number, number, number];
  /**
   * 3-D Dice of the volume, mean over the foreground classes (for K = 2, the foreground's):
   * 1 when a class is absent from both the prediction and the ground truth.
   */
  readonly dice: number;
  /**
   * 3-D HD95 (mm, MONAI's per-direction), mean over the foreground classes where it is finite;
   * when none is: +Infinity if some class is empty on one side only, NaN if every class is empty
   * on both (so for K = 2 it is the foreground's own value).
   */
  readonly hd95: number;
  /** Lesion-wise detection, counts summed over the foreground classes (`poolDetections`). */
  readonly lesion: LesionDetection;
}

/** Mean (std) over volumes, as {@link evaluateSet} reports them; `summarize` skips NaN and ±Infinity. */
export interface VolumeSummary {
  readonly volumes: number;
  readonly dice: Summary;
  readonly hd95: Summary;
  /** Lesion-wise recall, precision and F1 of each volume. */
  readonly recall: Summary;
  readonly precision: Summary;
  readonly f1: Summary;
}

/** One foreground class in {@link evaluateSet}. */
export interface ClassEvaluation {
  /** The class index (1 … K − 1; 0 when K = 1). */
  readonly class: number;
  /** The slice split of this class's masks (a slice is a lesion slice when its ground truth has the class). */
  readonly slices: SplitSliceScores;
  /** Dice over the slices whose ground truth has the class (`slices.lesionDice`). */
  readonly lesionDice: Summary;
  /** The class's metrics per volume, in the order of `SetEvaluation.volumes`. */
  readonly volumes: readonly VolumeMetrics[];
  /** Volumes whose ground truth has the class (at least one lesion of it). */
  readonly lesionVolumes: number;
  /** Mean (std) over volumes of the class's 3-D Dice, HD95 and lesion-wise F1. */
  readonly volumeDice: Summary;
  readonly volumeHd95: Summary;
  readonly lesionF1: Summary;
}

/** What {@link evaluateSet} returns. */
export interface SetEvaluation {
  /** Per slice, as `imageMetrics`. */
  readonly images: readonly ImageMetrics[];
  /** `summarizeImages(images)`: the per-slice headline (empty/empty = 1). */
  readonly summary: EvalSummary;
  /** Lesion slices and empty slices apart (`splitSliceScores` of `images`). */
  readonly slices: SplitSliceScores;
  /** Per volume, in order of each volume's first slice in the input. */
  readonly volumes: readonly VolumeEvaluation[];
  readonly volumeSummary: VolumeSummary;
  /** One entry per foreground class (K = 2: the single foreground class; K = 1: class 0). */
  readonly perClass: readonly ClassEvaluation[];
}

/** A volume's slices: indices into the input, in stacking order. */
interface VolumeGroup {
  readonly id: string;
  readonly members: number[];
  readonly thickness: number;
}

/**
 * Groups the slices into volumes (`groupVolumes`) and checks that the slices of a volume agree in
 * size and spacing, so that they stack.
 */
function stackableVolumes(op: string, slices: readonly LabelledImage[]): VolumeGroup[] {
  return groupVolumes(slices, op).map((g) => {
    const head = slices[g.indices[0]!]!;
    for (const i of g.indices.slice(1)) {
      const s = slices[i]!;
      if (s.height !== head.height || s.width !== head.width) throw new InputError(op, `slices[${i}]`, `is ${s.height}×${s.width} but slice ${g.indices[0]} of volume '${g.id}' is ${head.height}×${head.width}`);
      if (s.spacing[0] !== head.spacing[0] || s.spacing[1] !== head.spacing[1]) throw new InputError(op, `slices[${i}].spacing`, `[${s.spacing.join(', ')}] differs from [${head.spacing.join(', ')}] of slice ${g.indices[0]} of volume '${g.id}'`);
    }
    return { id: g.id, members: g.indices, thickness: g.thickness ?? 1 };
  });
}

/** The class-k mask of a volume's stacked slices: from the predictions or the ground truth. */
function stackedMask(members: readonly number[], planes: (i: number) => Uint8Array, hw: number, k: number): Uint8Array {
  const out = new Uint8Array(members.length * hw);
  members.forEach((i, z) => {
    const p = planes(i);
    for (let j = 0; j < hw; j++) out[z * hw + j] = p[j] === k ? 1 : 0;
  });
  return out;
}

function hasClass(labels: Uint8Array, k: number): boolean {
  for (let i = 0; i < labels.length; i++) if (labels[i] === k) return true;
  return false;
}

/** Mean of the finite values; else +Infinity when one is infinite, else NaN. */
function finiteMeanOr(values: readonly number[]): number {
  const s = summarize(values);
  if (s.count > 0) return s.mean;
  return values.some((v) => v === Infinity) ? Infinity : NaN;
}

/**
 * Evaluates predictions of a set of slices at three levels:
 *
 * - `images` / `summary`: per slice, as `imageMetrics` / `summarizeImages` (Dice empty/empty = 1);
 * - `slices`: the lesion slices (ground truth with foreground) and the empty slices apart
 *   (`splitSliceScores`): Dice over lesion slices, missed lesion slices, false alarms and their
 *   rate on empty slices;
 * - `volumes`: the slices of each volume (`slice.volume.id`) stacked in `volume.index` order into
 *   [Z, H, W] with spacing [thickness ?? 1, …slice spacing] (a slice without `volume` is a volume
 *   of one slice; index gaps are not filled), and per class `volumeMetrics`: 3-D Dice, HD95 and
 *   lesion-wise detection (connected components in 3-D). Empty cases are the metrics': a volume
 *   without lesions that predicts none has Dice 1, HD95 NaN and detection rates NaN; one that
 *   predicts some has Dice 0, HD95 +Infinity, precision 0, F1 0. `volumeSummary` gives mean
 *   (std) over volumes, where NaN and ±Infinity never enter a mean (`summarize` counts them);
 * - `perClass`: each foreground class (1 … K − 1, or class 0 when K = 1) on its own: its slice
 *   split, per-volume metrics and their summaries.
 *
 * @param slices labelled slices, each with `label` [H, W] and optionally `volume`.
 * @param predictions class-index maps, `predictions[i]` for `slices[i]`, of H·W values below `classes`.
 * @param classes K, the number of classes (background included).
 * @throws InputError naming `slices` / `predictions` (not arrays, or of different lengths),
 *   `predictions[i]` (not a Uint8Array of H·W values below `classes`), `classes` (not a positive
 *   integer), `slices[i].volume.*` (a malformed reference, a duplicate index in a volume, a
 *   thickness that differs within a volume), `slices[i]` / `slices[i].spacing` (a slice whose size
 *   or spacing differs from its volume's), or `options.*` as `lesionDetection`.
 */
export function evaluateSet(slices: readonly LabelledImage[], predictions: readonly Uint8Array[], classes: number, options: EvaluateSetOptions = {}): SetEvaluation {
  const op = 'evaluateSet';
  checkOptionKeys(op, options, ['connectivity', 'minOverlap']);
  const connectivity: unknown = options.connectivity;
  const minOverlap: unknown = options.minOverlap;
  if (connectivity !== undefined && connectivity !== 'face' && connectivity !== 'full') throw new InputError(op, 'options.connectivity', `expected 'face' or 'full', got ${String(connectivity)}`);
  if (minOverlap !== undefined && (typeof minOverlap !== 'number' || !Number.isInteger(minOverlap) || minOverlap < 1)) throw new InputError(op, 'options.minOverlap', `expected an integer ≥ 1, got ${String(minOverlap)}`);
  if (!Array.isArray(slices)) throw new InputError(op, 'slices', `expected an array of labelled slices, got ${describeValue(slices)}`);
  if (!Array.isArray(predictions)) throw new InputError(op, 'predictions', `expected an array of label maps, got ${describeValue(predictions)}`);
  if (predictions.length !== slices.length) throw new InputError(op, 'predictions', `expected one label map per slice (${slices.length}), got ${predictions.length}`);
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 1 || classes > 256) throw new InputError(op, 'classes', `expected an integer in 1 … 256, got ${String(classes)}`);
  slices.forEach((s, i) => {
    if (s === null || typeof s !== 'object') throw new InputError(op, `slices[${i}]`, `expected a labelled slice, got ${describeValue(s)}`);
    const hw = s.height * s.width;
    if (!(s.label instanceof Uint8Array) || s.label.length !== hw) throw new InputError(op, `slices[${i}].label`, `expected a Uint8Array of ${s.height}×${s.width} = ${hw} class indices`);
    const p: unknown = predictions[i];
    if (!(p instanceof Uint8Array) || p.length !== hw) {
      throw new InputError(op, `predictions[${i}]`, `expected a Uint8Array of ${s.height}×${s.width} = ${hw} class indices (slice '${s.id}'), got ${p instanceof Uint8Array ? `${p.length} values` : describeValue(p)}`);
    }
    for (let j = 0; j < hw; j++) {
      if (p[j]! >= classes) throw new InputError(op, `predictions[${i}]`, `value ${p[j]} at (y, x) = (${Math.floor(j / s.width)}, ${j % s.width}) is not one of the ${classes} classes 0 … ${classes - 1}`);
    }
  });
  const groups = stackableVolumes(op, slices);
  const images = slices.map((s, i) => imageMetrics(s, predictions[i]!, classes));
  const foreground = classes > 1 ? Array.from({ length: classes - 1 }, (_, j) => j + 1) : [0];
  const detectionOptions = { ...(options.connectivity !== undefined ? { connectivity: options.connectivity } : {}), ...(options.minOverlap !== undefined ? { minOverlap: options.minOverlap } : {}) };
  const spacings = groups.map((g): [number, number, number] => {
    const head = slices[g.members[0]!]!;
    return [g.thickness, head.spacing[0], head.spacing[1]];
  });
  // perClassVolumes[c][v]: class foreground[c] in volume v
  const perClassVolumes: VolumeMetrics[][] = foreground.map((k) => groups.map((g, v) => {
    const head = slices[g.members[0]!]!;
    const hw = head.height * head.width;
    const shape = [g.members.length, head.height, head.width];
    const pred = { data: stackedMask(g.members, (i) => predictions[i]!, hw, k), shape };
    const gt = { data: stackedMask(g.members, (i) => slices[i]!.label, hw, k), shape };
    return volumeMetrics(pred, gt, { spacing: spacings[v], ...detectionOptions });
  }));
  const volumes: VolumeEvaluation[] = groups.map((g, v) => ({
    id: g.id,
    slices: g.members.length,
    sliceIds: g.members.map((i) => slices[i]!.id),
    spacing: spacings[v]!,
    dice: summarize(perClassVolumes.map((c) => c[v]!.dice)).mean,
    hd95: finiteMeanOr(perClassVolumes.map((c) => c[v]!.hd95)),
    lesion: poolDetections(perClassVolumes.map((c) => c[v]!.lesion)),
  }));
  const perClass: ClassEvaluation[] = foreground.map((k, c) => {
    const split = splitSliceScores(slices.map((s, i) => {
      const hw = s.height * s.width;
      const shape = [s.height, s.width];
      const p = stackedMask([i], () => predictions[i]!, hw, k);
      const g = stackedMask([i], () => s.label, hw, k);
      return { dice: dice({ data: p, shape }, { data: g, shape }), gtForeground: hasClass(s.label, k), predForeground: hasClass(predictions[i]!, k) };
    }));
    const list = perClassVolumes[c]!;
    return {
      class: k,
      slices: split,
      lesionDice: split.lesionDice,
      volumes: list,
      lesionVolumes: list.filter((m) => m.lesion.gtLesions > 0).length,
      volumeDice: summarize(list.map((m) => m.dice)),
      volumeHd95: summarize(list.map((m) => m.hd95)),
      lesionF1: summarize(list.map((m) => m.lesion.f1)),
    };
  });
  return {
    images,
    summary: summarizeImages(images),
    slices: splitSliceScores(images),
    volumes,
    volumeSummary: {
      volumes: volumes.length,
      dice: summarize(volumes.map((v) => v.dice)),
      hd95: summarize(volumes.map((v) => v.hd95)),
      recall: summarize(volumes.map((v) => v.lesion.recall)),
      precision: summarize(volumes.map((v) => v.lesion.precision)),
      f1: summarize(volumes.map((v) => v.lesion.f1)),
    },
    perClass,
  };
}

/**
 * Class-index predictions [N, H, W] (argmax of the logits) of images x [N, C, H, W] in
 * evaluation mode, read back to the host.
 */
export async function predictLabels<P, S>(model: Model<unknown, P, S>, params: P, state: S, x: Tensor): Promise<Uint8Array> {
  const labels = scope(() => argmax(model.apply(params, state, x, { training: false })[0], 1));
  try {
    return Uint8Array.from(await labels.data());
  } finally {
    labels.dispose();
  }
}
