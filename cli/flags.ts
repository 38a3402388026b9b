/**
 * The flags of every command, declared once: groups shared by several commands (the shared
 * flags, data, model, training) and each command's list.
 */
import { lossNames } from '../models/objective.js';
import { AUGMENT_NAMES } from '../data/augment.js';
import { cliScheduleNames } from './schedules.js';
import { DEFAULT_CONVENTION, DEFAULT_GDL_WEIGHTS, DEFAULT_REFERENCE_BASE, DEFAULT_UNET_BASE, DEFAULT_UNET_DEPTH } from './train-setup.js';
import { NETWORK_ARCHS } from '../models/networks.js';
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
  { name: 'data', kind: 'string', value: 'DIR', path: true, help: 'dataset folder: DIR/{train,val}/{img,gt} of PNG slices or NIfTI volumes, or an nnU-Net v2 raw dataset (DIR/dataset.json, imagesTr, labelsTr)' },
  { name: 'splits', kind: 'string', value: 'FILE', path: true, help: 'nnU-Net folder: the splits_final.json whose fold (--fold) gives the train and val cases', default: 'DIR/splits_final.json if there is one, else a seeded 80/20 split of the cases' },
  { name: 'fold', kind: 'int', value: 'K', min: 0, help: 'nnU-Net folder: the fold of the splits (0-based)', default: '0' },
  { name: 'synthetic', kind: 'boolean', help: 'use a built-in synthetic dataset (see --synthetic-set) instead of --data' },
  { name: 'synthetic-set', kind: 'string', value: 'NAME', values: ['wmh', 'wmh-v1', 'vessels'], help: 'synthetic: wmh (WMH-like slices cut from 3-D volumes, split by volume), wmh-v1 (the first, easier WMH-like slices), vessels (retina-like vessel trees)', default: 'wmh' },
  { name: 'label-format', kind: 'string', value: 'FORMAT', values: ['indices', 'binary255', 'auto'], help: 'label values: class indices, 0/255 masks, or auto', default: 'auto' },
  { name: 'size', kind: 'int', value: 'N', min: 16, max: MAX_SLICE_SIDE, help: 'resize slices to N×N (synthetic: slice side)', default: 'keep (synthetic: 64, vessels 128)' },
  { name: 'axis', kind: 'int', value: '0|1|2', min: 0, max: 2, help: 'NIfTI slicing axis of [z, y, x]', default: '0' },
  { name: 'classes', kind: 'int', value: 'K', min: 2, max: 256, help: 'number of classes', default: 'largest label + 1' },
  { name: 'train-slices', kind: 'int', value: 'N', min: 1, max: MAX_SYNTHETIC_SLICES, help: 'synthetic: training slices', default: 'wmh 144, wmh-v1 150, vessels 48' },
  { name: 'val-slices', kind: 'int', value: 'N', min: 1, max: MAX_SYNTHETIC_SLICES, help: 'synthetic: validation slices', default: 'wmh 48, wmh-v1 30, vessels 16' },
  { name: 'modalities', kind: 'int', value: '1|2', min: 1, max: 2, help: 'synthetic: image channels', default: '1' },
  { name: 'data-seed', kind: 'int', value: 'N', min: 0, help: 'synthetic: seed of the generated data; nnU-Net folder without splits: seed of the 80/20 split of its cases', default: '0' },
];

/** The network. */
const model: FlagSpec[] = [
  { name: 'arch', kind: 'string', value: 'unet|reference', values: NETWORK_ARCHS, help: "the network: a U-Net (the flags below) or reference, the authors' network (LIVIAETS boundary-loss; depth 3 with batch norm, fixed; image sides divisible by 8)", default: 'unet' },
  { name: 'base', kind: 'int', value: 'N', min: 1, help: 'channels at the first level', default: `${DEFAULT_UNET_BASE}; --arch reference: ${DEFAULT_REFERENCE_BASE}` },
  { name: 'depth', kind: 'int', value: 'N', min: 1, max: 8, help: 'U-Net 2× down-samplings (not with --arch reference)', default: String(DEFAULT_UNET_DEPTH) },
  { name: 'batch-norm', kind: 'boolean', help: 'U-Net: batch norm after each 3×3 convolution (on by default; --no-batch-norm turns it off; the paper\'s U-Net: --base 64 --depth 4)' },
  { name: 'dropout', kind: 'number', value: 'RATE', min: 0, max: 0.99, help: 'U-Net: dropout at the bottleneck in training', default: '0' },
];

/** The class weights of the GDL term (train and experiment). */
const gdlWeights: FlagSpec = { name: 'gdl-weights', kind: 'string', value: 'NAME', values: ['reference', 'monai'], help: "GDL class weights: reference (1/(Σt + 1e-10)²: no gradient on lesion-free images) or monai (absent classes take the image's largest weight)", default: DEFAULT_GDL_WEIGHTS };

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
  { name: 'convention', kind: 'string', value: 'NAME', values: ['reference', 'interface'], help: 'signed distance map convention of the boundary loss: reference (LIVIAETS: φ = −(EDT − 1) inside) or interface (the boundary between pixels)', default: DEFAULT_CONVENTION },
  { name: 'augment', kind: 'list', value: 'T1,T2', values: ['none', ...AUGMENT_NAMES], help: `augment the training slices on the fly (never validation), seeded by --seed: none, or some of ${AUGMENT_NAMES.join(', ')} (applied in that order; see docs/augmentation.md)`, default: 'none' },
  { name: 'resume', kind: 'string', value: 'DIR|FILE', path: true, help: 'continue an interrupted run from its folder (or its last.ckpt)' },
  { name: 'overlays', kind: 'int', value: 'N', min: 0, help: 'overlay pictures of validation predictions to write', default: '6' },
  { name: 'jit', kind: 'boolean', help: 'compile the training step and the validation forward with jit (on by default; --no-jit runs them eagerly, with the same results)' },
];

const losses: FlagSpec[] = [
  { name: 'losses', kind: 'list', value: 'L1,L2', values: lossNames, help: `losses to combine: ${lossNames.join(', ')}`, default: 'gdl,boundary' },
  { name: 'schedule', kind: 'string', value: 'NAME', values: cliScheduleNames, help: `loss weights per epoch: ${cliScheduleNames.join(', ')} (the paper's and the reference's schedules, as published or stretched over the run)`, default: 'rebalance (2 losses), constant (1 loss)' },
  { name: 'floor-at-epoch', kind: 'int', value: 'N', min: 1, help: 'rebalance: the 0-based epoch at which α reaches 0.01', default: 'the paper\'s 99' },
  { name: 'weights', kind: 'numbers', value: 'W1,W2', min: 0, help: 'constant: the loss weights (≥ 0)', default: 'all 1' },
  gdlWeights,
];

/** `train`'s flags. */
export const trainFlags: readonly FlagSpec[] = [...data, out('train'), ...model, ...training, ...losses, ...general];

/** `experiment`'s flags. */
export const experimentFlags: readonly FlagSpec[] = [
  ...data, out('experiment'), ...model,
  ...training.map((s) => (s.name === 'seed' ? { ...s, help: 'first training seed (runs use seed, seed + 1, …)' }
    : s.name === 'epochs' ? { ...s, default: "the protocol's: quick 12, reference 100" }
      : s.name === 'lr-rule' ? { ...s, default: 'plateau (protocol reference: reference)' } : s)),
  gdlWeights,
  { name: 'protocol', kind: 'string', value: 'NAME', values: ['quick', 'reference'], help: "quick (12 epochs, U-Net d3-b16 with batch norm) or reference (the authors': --arch reference, 100 epochs, --lr-rule reference, schedules as published); flags given override it", default: 'quick' },
  { name: 'seeds', kind: 'int', value: 'N', min: 1, help: 'training seeds per loss setting', default: '3' },
  { name: 'settings', kind: 'list', value: 'S1,S2', help: `loss settings to compare, each LOSS[+LOSS][:SCHEDULE] with a schedule out of ${cliScheduleNames.join(', ')}`, default: 'gdl,gdl+boundary:rebalance,gdl+boundary:steal,boundary' },
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
  { name: 'input', kind: 'string', value: 'FILE|DIR', path: true, help: 'a PNG or NIfTI image, or a folder of them (case_0000, case_0001, … are the channels of one case, written as case)' },
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

/** Each command's flags (`backends` has its own two), for messages about a flag given to the wrong command. */
export const FLAGS_BY_COMMAND: Readonly<Record<string, readonly FlagSpec[]>> = {
  train: trainFlags, experiment: experimentFlags, eval: evalFlags, predict: predictFlags, distmap: distmapFlags,
};

/**
 * What `parseArgs` needs to say that a flag belongs to other commands: `command` and, for a flag
 * name, the commands (of train, experiment, eval, predict, distmap) that take it.
 */
export function flagsElsewhere(command: string): { command: string; takers: (flag: string) => string[] } {
  return { command, takers: (flag) => Object.entries(FLAGS_BY_COMMAND).filter(([, specs]) => specs.some((s) => s.name === flag)).map(([c]) => c) };
}
