/**
 * Segmentation quality of predicted label maps against ground truth, per image and summarised:
 * Dice on argmax masks (empty/empty = 1, the reference's convention), Hausdorff and HD95 in mm
 * (MONAI's per-direction HD95) over images where both masks are non-empty, and the counts of
 * missed lesion images and false alarms. NaN and infinities never enter a mean.
 */
import { argmax } from '../core/ops.js';
import { scope } from '../core/engine.js';
import type { Tensor } from '../core/tensor.js';
import { dice } from '../metrics/dice.js';
import { hausdorff, hausdorff95 } from '../metrics/hausdorff.js';
import { summarize, type Summary } from '../metrics/summarize.js';
import type { LabelledImage } from './data-source.js';
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

/** Metrics of one predicted label map `pred` against `image.label`, both [H, W] class indices. */
export function imageMetrics(image: LabelledImage, pred: Uint8Array, classes: number): ImageMetrics {
  const shape = [image.height, image.width];
  const spacing = [...image.spacing];
  const dices: number[] = [];
  const hds: number[] = [];
  const hd95s: number[] = [];
  for (let k = classes > 1 ? 1 : 0; k < classes; k++) {
    const p = { data: mask(pred, k), shape };
    const g = { data: mask(image.label, k), shape };
    dices.push(dice(p, g));
    hds.push(hausdorff(p, g, { spacing }));
    hd95s.push(hausdorff95(p, g, { spacing }));
  }
  return {
    id: image.id,
    dice: summarize(dices).mean,
    hd: summarize(hds).mean,
    hd95: summarize(hd95s).mean,
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
