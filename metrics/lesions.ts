/**
 * Lesion-level evaluation: connected components, lesion-wise detection (recall, precision, F1),
 * per-volume metrics (the WMH challenge ranks per volume) and the split of per-slice scores into
 * lesion slices and empty slices.
 */
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type MaskArray, checkSameShape, readMask, readSpacing, stridesOf } from '../losses/array.js';
import { dice } from './dice.js';
import { hausdorff95 } from './hausdorff.js';
import { type Summary, summarize } from './summarize.js';

/**
 * Which voxels are neighbours in a connected component.
 * - `face` (default): voxels sharing a face, 2·rank neighbours (4 in 2-D, 6 in 3-D).
 * - `full`: voxels sharing a face, an edge or a corner, 3^rank − 1 neighbours (8 in 2-D, 26 in 3-D).
 */
export type Connectivity = 'face' | 'full';

/** Options of {@link connectedComponents}. */
export interface ConnectivityOptions {
  readonly connectivity?: Connectivity;
}

/** What {@link connectedComponents} returns. */
export interface Components {
  /** One entry per voxel, row-major: 0 for background, 1 … `count` for the component it belongs to. */
  readonly labels: Int32Array;
  /** Number of components. Labels are numbered in raster (row-major) order of each component's first voxel. */
  readonly count: number;
  /** Voxel count per component: `sizes[k − 1]` belongs to label k. */
  readonly sizes: number[];
}

/**
 * Connected components of a binary mask of any dimension (see {@link Connectivity}), by breadth-first
 * search in raster order: linear in the number of voxels. Voxels outside the image belong to no
 * component. A zero-size mask has no components; a 0-d true mask has one.
 *
 * @throws ShapeError / InputError naming `mask`, `options.connectivity` or an unknown option key.
 */
export function connectedComponents(mask: MaskArray, options: ConnectivityOptions = {}): Components {
  const op = 'connectedComponents';
  checkOptionKeys(op, options, ['connectivity']);
  const connectivity = readConnectivity(op, options);
  const values = readMask(op, 'mask', mask);
  return componentsOf(values, mask.shape, connectivity);
}

/** Options of {@link lesionDetection}. */
export interface LesionDetectionOptions extends ConnectivityOptions {
  /**
   * Smallest number of voxels (an integer ≥ 1) a lesion of one mask must share with the foreground
   * of the other to count as matched; default 1 (any overlapping voxel counts).
   */
  readonly minOverlap?: number;
}

/** What {@link lesionDetection} returns. */
export interface LesionDetection {
  /** Connected components of the ground truth. */
  readonly gtLesions: number;
  /** Connected components of the prediction. */
  readonly predLesions: number;
  /** Ground-truth components sharing at least `minOverlap` voxels with the prediction's foreground. */
  readonly detected: number;
  /** Predicted components sharing fewer than `minOverlap` voxels with the ground truth's foreground. */
  readonly falsePositives: number;
  /** `detected / gtLesions`; NaN when there is no ground-truth lesion. */
  readonly recall: number;
  /** `(predLesions − falsePositives) / predLesions`; NaN when there is no predicted lesion. */
  readonly precision: number;
  /**
   * `2·precision·recall / (precision + recall)` (0 when both are 0). When exactly one side has no
   * lesion it is 0 (every lesion of the other side is a miss or a false positive); NaN when neither has any.
   */
  readonly f1: number;
}

/**
 * Lesion-wise detection: the lesions of each mask are its connected components (see
 * {@link connectedComponents}); a ground-truth lesion is detected when the prediction covers at least
 * `minOverlap` of its voxels, and a predicted lesion is a false positive when fewer than `minOverlap`
 * of its voxels are ground truth. Empty cases never throw: no lesion in either mask → recall,
 * precision and F1 NaN (undefined rates, which `summarize` skips); no ground-truth lesion only →
 * recall NaN, precision 0, F1 0; no predicted lesion only → recall 0, precision NaN, F1 0.
 *
 * @throws ShapeError naming `pred` / `gt` (shapes that differ: argument `gt`); InputError naming
 *   `pred`, `gt`, `options.connectivity`, `options.minOverlap` or an unknown option key.
 */
export function lesionDetection(pred: MaskArray, gt: MaskArray, options: LesionDetectionOptions = {}): LesionDetection {
  const op = 'lesionDetection';
  checkOptionKeys(op, options, ['connectivity', 'minOverlap']);
  return detectionOf(op, pred, gt, options);
}

/** Options of {@link volumeMetrics}: the spacing (for HD95) and the lesion-detection options. */
export interface VolumeMetricsOptions extends LesionDetectionOptions {
  /** Physical voxel size per axis (`spacing[i]` belongs to `shape[i]`); default all 1. */
  readonly spacing?: readonly number[];
}

/** What {@link volumeMetrics} returns. */
export interface VolumeMetrics {
  /** Dice over the whole volume (both empty → 1, one empty → 0). */
  readonly dice: number;
  /** HD95 over the whole volume, physical units, MONAI's per-direction variant (both empty → NaN, one empty → +Infinity). */
  readonly hd95: number;
  /** Lesion-wise detection over the whole volume. */
  readonly lesion: LesionDetection;
}

/**
 * Metrics of one whole volume, as the WMH challenge ranks them: `dice`, `hausdorff95` (with
 * `spacing`) and {@link lesionDetection} of the volume's masks. Meant for 3-D volumes; any dimension
 * works. Empty cases are those of the three metrics.
 *
 * @throws ShapeError / InputError as `dice`, `hausdorff95` and `lesionDetection`, naming
 *   `options.spacing` for a bad spacing and any unknown option key.
 */
export function volumeMetrics(pred: MaskArray, gt: MaskArray, options: VolumeMetricsOptions = {}): VolumeMetrics {
  const op = 'volumeMetrics';
  checkOptionKeys(op, options, ['spacing', 'connectivity', 'minOverlap']);
  const lesion = detectionOf(op, pred, gt, options);
  readSpacing(op, 'options.spacing', options.spacing, pred.shape.length);
  return { dice: dice(pred, gt), hd95: hausdorff95(pred, gt, { spacing: options.spacing }), lesion };
}

/**
 * The score of one slice (or image) as {@link splitSliceScores} reads it; `ImageMetrics` of
 * `models/evaluate.ts` has this shape.
 */
export interface SliceScore {
  /** Dice of the slice (empty/empty = 1 by `dice`'s convention). */
  readonly dice: number;
  /** The ground truth has foreground on this slice. */
  readonly gtForeground: boolean;
  /** The prediction has foreground on this slice. */
  readonly predForeground: boolean;
}

/** What {@link splitSliceScores} returns. */
export interface SplitSliceScores {
  /** Slices with ground-truth foreground. */
  readonly lesionSlices: number;
  /** Slices without ground-truth foreground. */
  readonly emptySlices: number;
  /** Dice over the lesion slices only (`summarize`: NaN mean when there is none). */
  readonly lesionDice: Summary;
  /** Lesion slices where nothing is predicted. */
  readonly missed: number;
  /** Empty slices where something is predicted. */
  readonly falseAlarms: number;
  /** `falseAlarms / emptySlices`; NaN when there is no empty slice. */
  readonly falseAlarmRate: number;
}

/**
 * Reports the two kinds of slices apart, so that empty/empty = 1 never inflates the headline Dice:
 * Dice summarised over the slices with ground-truth foreground, and the false alarms (some
 * prediction) on the slices without. Never throws on an empty list.
 *
 * @throws InputError naming `slices` (not an array) or `slices[i].<field>` (a field of the wrong type).
 */
export function splitSliceScores(slices: readonly SliceScore[]): SplitSliceScores {
  const op = 'splitSliceScores';
  if (!Array.isArray(slices)) throw new InputError(op, 'slices', 'expected an array of slice scores');
  const lesionDices: number[] = [];
  let emptySlices = 0;
  let missed = 0;
  let falseAlarms = 0;
  slices.forEach((s: SliceScore, i) => {
    if (s === null || typeof s !== 'object') throw new InputError(op, `slices[${i}]`, 'expected an object');
    if (typeof s.dice !== 'number') throw new InputError(op, `slices[${i}].dice`, `expected a number, got ${typeof s.dice}`);
    for (const field of ['gtForeground', 'predForeground'] as const) {
      if (typeof s[field] !== 'boolean') {
        throw new InputError(op, `slices[${i}].${field}`, `expected a boolean, got ${typeof s[field]}`);
      }
    }
    if (s.gtForeground) {
      lesionDices.push(s.dice);
      if (!s.predForeground) missed++;
    } else {
      emptySlices++;
      if (s.predForeground) falseAlarms++;
    }
  });
  return {
    lesionSlices: lesionDices.length,
    emptySlices,
    lesionDice: summarize(lesionDices),
    missed,
    falseAlarms,
    falseAlarmRate: emptySlices === 0 ? NaN : falseAlarms / emptySlices,
  };
}

/**
 * One detection for several: the counts of `detections` summed (e.g. the foreground classes of one
 * volume, each with its own lesions) and the rates recomputed with {@link lesionDetection}'s rules
 * and empty cases. An empty list has no lesions: recall, precision and F1 NaN.
 *
 * @throws InputError naming `detections` (not an array) or `detections[i].<count>` (not a
 *   non-negative integer).
 */
export function poolDetections(detections: readonly LesionDetection[]): LesionDetection {
  const op = 'poolDetections';
  if (!Array.isArray(detections)) throw new InputError(op, 'detections', 'expected an array of lesion detections');
  const total = { gtLesions: 0, predLesions: 0, detected: 0, falsePositives: 0 };
  detections.forEach((d: LesionDetection, i) => {
    if (d === null || typeof d !== 'object') throw new InputError(op, `detections[${i}]`, 'expected an object');
    for (const field of ['gtLesions', 'predLesions', 'detected', 'falsePositives'] as const) {
      const v: unknown = d[field];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InputError(op, `detections[${i}].${field}`, `expected a non-negative integer, got ${String(v)}`);
      total[field] += v;
    }
  });
  return { ...total, ...rates(total.gtLesions, total.predLesions, total.detected, total.falsePositives) };
}

function readConnectivity(op: string, options: ConnectivityOptions | undefined): Connectivity {
  const connectivity: unknown = options?.connectivity ?? 'face';
  if (connectivity !== 'face' && connectivity !== 'full') {
    throw new InputError(op, 'options.connectivity', `expected 'face' or 'full', got ${String(connectivity)}`);
  }
  return connectivity;
}

function readMinOverlap(op: string, options: LesionDetectionOptions | undefined): number {
  const minOverlap: unknown = options?.minOverlap ?? 1;
  if (typeof minOverlap !== 'number' || !Number.isInteger(minOverlap) || minOverlap < 1) {
    throw new InputError(op, 'options.minOverlap', `expected an integer ≥ 1, got ${String(minOverlap)}`);
  }
  return minOverlap;
}

/** Lesion detection after the option keys are checked (shared with `volumeMetrics`). */
function detectionOf(op: string, pred: MaskArray, gt: MaskArray, options: LesionDetectionOptions): LesionDetection {
  const connectivity = readConnectivity(op, options);
  const minOverlap = readMinOverlap(op, options);
  const p = readMask(op, 'pred', pred);
  const g = readMask(op, 'gt', gt);
  checkSameShape(op, ['pred', 'gt'], pred.shape, gt.shape);
  const gc = componentsOf(g, gt.shape, connectivity);
  const pc = componentsOf(p, pred.shape, connectivity);
  const detected = countMatched(gc, p, minOverlap);
  const falsePositives = pc.count - countMatched(pc, g, minOverlap);
  return { gtLesions: gc.count, predLesions: pc.count, detected, falsePositives, ...rates(gc.count, pc.count, detected, falsePositives) };
}

/** Components of `c` with at least `minOverlap` voxels where `other` is 1. */
function countMatched(c: Components, other: Uint8Array, minOverlap: number): number {
  const overlap = new Int32Array(c.count + 1);
  for (let i = 0; i < other.length; i++) if (other[i] === 1) overlap[c.labels[i]]++;
  let matched = 0;
  for (let k = 1; k <= c.count; k++) if (overlap[k] >= minOverlap) matched++;
  return matched;
}

function rates(gtLesions: number, predLesions: number, detected: number, falsePositives: number): Pick<LesionDetection, 'recall' | 'precision' | 'f1'> {
  const recall = gtLesions === 0 ? NaN : detected / gtLesions;
  const precision = predLesions === 0 ? NaN : (predLesions - falsePositives) / predLesions;
  let f1: number;
  if (gtLesions === 0 && predLesions === 0) f1 = NaN;
  else if (gtLesions === 0 || predLesions === 0) f1 = 0;
  else f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { recall, precision, f1 };
}

/** Neighbour offsets as index vectors: the 2·rank face neighbours, or all 3^rank − 1. */
function neighbourOffsets(rank: number, connectivity: Connectivity): number[][] {
  if (connectivity === 'face') {
    const out: number[][] = [];
    for (let a = 0; a < rank; a++) {
      for (const step of [-1, 1]) out.push(Array.from({ length: rank }, (_, b) => (b === a ? step : 0)));
    }
    return out;
  }
  let all: number[][] = [[]];
  for (let a = 0; a < rank; a++) all = all.flatMap((v) => [-1, 0, 1].map((s) => [...v, s]));
  return all.filter((v) => v.some((s) => s !== 0));
}

/** Connected components of validated 0/1 values (see {@link connectedComponents}). */
function componentsOf(values: Uint8Array, shape: readonly number[], connectivity: Connectivity): Components {
  const n = values.length;
  const rank = shape.length;
  const strides = stridesOf(shape);
  const offsets = neighbourOffsets(rank, connectivity);
  const linear = offsets.map((v) => v.reduce((s, step, a) => s + step * strides[a], 0));
  const labels = new Int32Array(n);
  const sizes: number[] = [];
  const queue = new Int32Array(n);
  const index = new Array<number>(rank);
  for (let start = 0; start < n; start++) {
    if (values[start] !== 1 || labels[start] !== 0) continue;
    const label = sizes.length + 1;
    labels[start] = label;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    while (head < tail) {
      const p = queue[head++];
      let rest = p;
      for (let a = rank - 1; a >= 0; a--) {
        index[a] = rest % shape[a];
        rest = (rest - index[a]) / shape[a];
      }
      for (let o = 0; o < offsets.length; o++) {
        const v = offsets[o];
        let inside = true;
        for (let a = 0; a < rank && inside; a++) {
          const j = index[a] + v[a];
          inside = j >= 0 && j < shape[a];
        }
        if (!inside) continue;
        const q = p + linear[o];
        if (values[q] === 1 && labels[q] === 0) {
          labels[q] = label;
          queue[tail++] = q;
        }
      }
    }
    sizes.push(tail);
  }
  return { labels, count: sizes.length, sizes };
}
