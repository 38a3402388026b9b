/**
 * Public API of `metrics/`: Dice, Hausdorff, HD95, average surface distance and surface
 * Dice with spacing, per-class evaluation and aggregation, connected components, lesion-wise
 * detection, per-volume metrics and the lesion-slice / empty-slice split, and paired statistics
 * (bootstrap confidence interval, Wilcoxon's signed-rank test). Synchronous, arrays in. Importing
 * this module registers the built-in backends (and Node's host); `browser.ts` is the same API for a
 * browser.
 */
import '../backends/register.js';

export * from './portable.js';
