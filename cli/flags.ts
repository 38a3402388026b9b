/**
 * The flags of every command, declared once: groups shared by several commands (the shared
 * flags, data, model, training) and each command's list.
 */
import { lossNames } from '../models/objective.js';
import { scheduleNames } from '../losses/schedules.js';
import type { FlagSpec } from './args.js';
import { MAX_SLICE_SIDE, MAX_SYNTHETIC_SLICES } from './limits.js';

const general: FlagSpec[] = [
  { name: 'config', kind: 'string', value: 'FILE.json', path: true, help: 'read flags from a JSON object (camelCase flag names); flags given here override it' },
  { name: 'backend', kind: 'string', value: 'NAME[:MODE]', help: 'tensor backend, e.g. cpu, gpujs:webasm (default: BOUNDARY_SEG_BACKEND or the fastest CPU backend)' },
  { name: 'debug', kind: 'boolean', help: 'print stack traces with errors' },
  { name: 'quiet', kind: 'boolean', help: 'no progress display' },
];

const out = (command: string): FlagSpec => ({ name: 'out', kind: 'string', value: 'DIR', path: true, help: 'output folder (must be new or empty)', default: `runs/${command}-<timestamp>` });

/** Where the data comes from. */
const data: FlagSpec[] = [
  { name: 'data', kind: 'string', value: 'DIR', path: true, help: 'dataset folder: DIR/{train,val}/{img,gt} of PNG slices or NIfTI volumes' },
  { name: 'synthetic', kind: 'boolean', help: 'use the built-in synthetic WMH-like dataset instead of --data' },
  { name: 'label-format', kind: 'string', value: 'FORMAT', values: ['indices', 'binary255', 'auto'], help: 'label values: class indices, 0/255 masks, or auto', default: 'auto' },
  { name: 'size', kind: 'int', value: 'N', min: 16, max: MAX_SLICE_SIDE, help: 'resize slices to N×N (synthetic: slice side)', default: 'keep (synthetic 64)' },
  { name: 'axis', kind: 'int', value: '0|1|2', min: 0, max: 2, help: 'NIfTI slicing axis of [z, y, x]', default: '0' },
  { name: 'classes', kind: 'int', value: 'K', min: 2, max: 256, help: 'number of classes', default: 'largest label + 1' },
  { name: 'train-slices', kind: 'int', value: 'N', min: 1, max: MAX_SYNTHETIC_SLICES, help: 'synthetic: training slices', default: '150' },
  { name: 'val-slices', kind: 'int', value: 'N', min: 1, max: MAX_SYNTHETIC_SLICES, help: 'synthetic: validation slices', default: '30' },
  { name: 'modalities', kind: 'int', value: '1|2', min: 1, max: 2, help: 'synthetic: image channels', default: '1' },
  { name: 'data-seed', kind: 'int', value: 'N', min: 0, help: 'synthetic: seed of the generated data', default: '0' },
];

/** The network. */
const model: FlagSpec[] = [
  { name: 'base', kind: 'int', value: 'N', min: 1, help: 'U-Net channels at the first level', default: '16' },
  { name: 'depth', kind: 'int', value: 'N', min: 1, max: 8, help: 'U-Net 2× down-samplings', default: '3' },
  { name: 'batch-norm', kind: 'boolean', help: 'batch norm after each 3×3 convolution (the paper\'s U-Net: --base 64 --depth 4 --batch-norm)' },
  { name: 'dropout', kind: 'number', value: 'RATE', min: 0, max: 0.99, help: 'dropout at the bottleneck in training', default: '0' },
];

/** The optimisation. */
const training: FlagSpec[] = [
  { name: 'seed', kind: 'int', value: 'N', min: 0, help: 'seed of all training randomness (initialisation, shuffling, dropout)', default: '0' },
  { name: 'epochs', kind: 'int', value: 'N', min: 1, help: 'training epochs', default: '20' },
  { name: 'batch-size', kind: 'int', value: 'N', min: 1, help: 'slices per step', default: '8' },
  { name: 'learning-rate', kind: 'number', value: 'LR', min: 0, exclusiveMin: true, help: 'initial learning rate', default: '1e-3' },
  { name: 'optimizer', kind: 'string', value: 'adam|sgd', values: ['adam', 'sgd'], help: 'Adam (betas 0.9/0.99, eps 1e-8) or SGD with momentum', default: 'adam' },
  { name: 'momentum', kind: 'number', value: 'M', min: 0, max: 0.999, help: 'SGD momentum', default: '0.9' },
  { name: 'lr-rule', kind: 'string', value: 'RULE', values: ['plateau', 'reference', 'none'], help: 'halve the rate after --lr-patience epochs without improvement (plateau), the reference code\'s rule, or never', default: 'plateau' },
  { name: 'lr-patience', kind: 'int', value: 'N', min: 1, help: 'epochs without validation improvement before halving', default: '20' },
  { name: 'convention', kind: 'string', value: 'NAME', values: ['reference', 'interface'], help: 'signed distance map convention of the boundary loss', default: 'reference' },
  { name: 'resume', kind: 'string', value: 'DIR|FILE', path: true, help: 'continue an interrupted run from its folder (or its last.ckpt)' },
  { name: 'overlays', kind: 'int', value: 'N', min: 0, help: 'overlay pictures of validation predictions to write', default: '6' },
  { name: 'jit', kind: 'boolean', help: 'compile the training step and the validation forward with jit (on by default; --no-jit runs them eagerly, with the same results)' },
];

const losses: FlagSpec[] = [
  { name: 'losses', kind: 'list', value: 'L1,L2', values: lossNames, help: `losses to combine: ${lossNames.join(', ')}`, default: 'gdl,boundary' },
  { name: 'schedule', kind: 'string', value: 'NAME', values: scheduleNames, help: `loss weights per epoch: ${scheduleNames.join(', ')}`, default: 'rebalance (2 losses), constant (otherwise)' },
  { name: 'floor-at-epoch', kind: 'int', value: 'N', min: 1, help: 'rebalance: epoch at which α reaches 0.01', default: 'the paper\'s 99, or half the run when shorter than 100 epochs' },
  { name: 'weights', kind: 'numbers', value: 'W1,W2', min: 0, help: 'constant: the loss weights (≥ 0)', default: 'all 1' },
];

/** `train`'s flags. */
export const trainFlags: readonly FlagSpec[] = [...data, out('train'), ...model, ...training, ...losses, ...general];

/** `experiment`'s flags. */
export const experimentFlags: readonly FlagSpec[] = [
  ...data, out('experiment'), ...model,
  ...training.map((s) => (s.name === 'seed' ? { ...s, help: 'first training seed (runs use seed, seed + 1, …)' } : s)),
  { name: 'seeds', kind: 'int', value: 'N', min: 1, help: 'training seeds per loss setting', default: '3' },
  { name: 'settings', kind: 'list', value: 'S1,S2', values: ['gdl', 'gdl+boundary', 'boundary'], help: 'loss settings to compare', default: 'gdl,gdl+boundary,boundary' },
  ...general,
];

/** `eval`'s flags. */
export const evalFlags: readonly FlagSpec[] = [
  { name: 'checkpoint', kind: 'string', value: 'FILE', path: true, help: 'a best.ckpt or last.ckpt' },
  ...data.filter((s) => s.name !== 'classes'),
  { name: 'split', kind: 'string', value: 'NAME', values: ['val', 'train', 'all'], help: 'which slices to evaluate', default: 'val' },
  { name: 'batch-size', kind: 'int', value: 'N', min: 1, help: 'slices per forward pass', default: '8' },
  { name: 'overlays', kind: 'int', value: 'N', min: 0, help: 'overlay pictures to write', default: '6' },
  out('eval'),
  ...general,
];

/** `predict`'s flags. */
export const predictFlags: readonly FlagSpec[] = [
  { name: 'checkpoint', kind: 'string', value: 'FILE', path: true, help: 'a best.ckpt or last.ckpt' },
  { name: 'input', kind: 'string', value: 'FILE|DIR', path: true, help: 'a PNG or NIfTI image, or a folder of them' },
  { name: 'axis', kind: 'int', value: '0|1|2', min: 0, max: 2, help: 'NIfTI slicing axis of [z, y, x]', default: '0' },
  { name: 'batch-size', kind: 'int', value: 'N', min: 1, help: 'slices per forward pass', default: '8' },
  out('predict'),
  ...general,
];

/** `distmap`'s flags. */
export const distmapFlags: readonly FlagSpec[] = [
  { name: 'input', kind: 'string', value: 'LABELS', path: true, help: 'a PNG or NIfTI label file' },
  { name: 'spacing', kind: 'numbers', value: 'a,b(,c)', min: 0, exclusiveMin: true, help: 'voxel size per axis ([H, W] or [z, y, x])', default: "the file's (PNG: 1,1)" },
  { name: 'convention', kind: 'string', value: 'NAME', values: ['reference', 'interface'], help: 'signed distance convention', default: 'reference' },
  { name: 'classes', kind: 'int', value: 'K', min: 1, max: 256, help: 'number of maps (classes)', default: 'largest label + 1, at least 2' },
  { name: 'label-format', kind: 'string', value: 'FORMAT', values: ['indices', 'binary255', 'auto'], help: 'label values', default: 'auto' },
  { name: 'truncate', kind: 'boolean', help: "truncate distances toward zero (the reference's int32 maps)" },
  out('distmap'),
  ...general,
];
