/**
 * Datasets from folders, and single files for `predict` and `distmap`.
 *
 * Layout: `DIR/train/img`, `DIR/train/gt`, `DIR/val/img`, `DIR/val/gt`, each holding PNG slices
 * (`*.png`) or NIfTI volumes (`*.nii`, `*.nii.gz`), one format for the whole dataset. An image and
 * its label have the same file name up to the extension (`case01.png` ↔ `case01.png`,
 * `case01.nii.gz` ↔ `case01.nii`). Several modalities of a case are separate image files named
 * `case01_0000.nii.gz`, `case01_0001.nii.gz`, … (nnU-Net's convention) beside one label `case01…`;
 * they become the slice's channels, in that order (`groupImageCases` groups `predict`'s inputs the
 * same way). Other files (and names starting with `.`) are ignored. An nnU-Net v2 raw dataset
 * (`dataset.json`, `imagesTr`, `labelsTr`) is read by `data/nnunet.ts` through the same path from
 * cases to slices (`casesToDataset`).
 *
 * Images: each file is min-max normalised to [0, 1] on its own: a PNG slice, a NIfTI volume (each
 * modality separately). PNG colour: a PNG whose R, G, B differ somewhere is colour; if any image of
 * the dataset is colour, every slice gets 3 channels (gray ones copied), else 1 (a gray picture
 * saved as RGB reads as gray); alpha is dropped. `channels` forces 1 (luminance) or 3.
 *
 * Labels: see {@link LabelFormat}; `auto` is decided once for the whole dataset (all label files
 * together), so that a mask file that happens to hold only 0 reads the same as its neighbours.
 *
 * NIfTI volumes (`[z, y, x]`) are cut into 2-D slices along `axis`; slice ids are
 * `<case>_<z|y|x><index, 3 digits>`, PNG slice ids are the file stems (val ids get a `val-` prefix
 * when a stem occurs in both splits). A NIfTI slice's `volume` is `{ id: <case> (with that prefix
 * when given), index, thickness: the voxel size along axis (mm) }`; PNG slices have none.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError, ShapeError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { type FileFormat, type ImageGrid, type LabelGrid, fileFormatOf, readImageFile, readLabelFile, stemOf, withChannels } from './image-files.js';
import { type LabelFormat, distinctLabelValues, readLabelFormat, resolveLabelFormat, toClassIndices } from './labels.js';
import type { NiftiVolume } from './nifti.js';
import { minMaxNormalise } from './normalise.js';
import { resizeBilinear, resizeNearest } from './resize.js';
import type { Dataset, Slice } from './types.js';
import { type VolumeAxis, planeShape, slicePlane } from './volume-slices.js';
import { formatPercent } from './lesion-stats.js';

export type { LabelFormat } from './labels.js';

/** Options of the loaders. */
export interface LoadOptions {
  /** Default `'auto'`. */
  readonly labelFormat?: LabelFormat;
  /** Resize every slice to `size × size` (images bilinear, labels nearest; spacing × n/m). Default: keep (all slices must then agree). */
  readonly size?: number;
  /** NIfTI slicing axis of `[z, y, x]`; default 0 (axial slices `[y, x]`). PNG files ignore it. */
  readonly axis?: 0 | 1 | 2;
  /**
   * Number of classes; labels must lie in [0, classes). Default: largest label + 1 (at least 2),
   * when the values are the contiguous indices 0 … largest and at most `MAX_INFERRED_CLASSES`
   * (otherwise an InputError names the values found).
   */
  readonly classes?: number;
  /** Force 1 (colour → luminance) or 3 (gray copied) image channels per image file; default: see the module doc. */
  readonly channels?: 1 | 3;
}

/** @internal The loader options, checked (shared with the nnU-Net loader). */
export interface CheckedOptions {
  readonly labelFormat: LabelFormat;
  readonly size: number | undefined;
  readonly axis: VolumeAxis;
  readonly classes: number | undefined;
  readonly channels: 1 | 3 | undefined;
}

/** @internal A training case: its image files (full paths, one per modality, in order) and its label file. */
export interface Case {
  readonly id: string;
  readonly images: string[];
  readonly label: string;
}

/** @internal A case read: its image grids (one per modality file) and its label grid. */
export interface LoadedCase {
  readonly id: string;
  readonly images: ImageGrid[];
  readonly label: LabelGrid;
}

/** @internal A case found by {@link matchCases}: its image file names by modality index (before the order is checked) and its label file name. */
export interface MatchedCase {
  readonly id: string;
  readonly files: ReadonlyMap<number, string>;
  readonly label: string;
}

/** Image files of a case grouped for `predict`: see {@link groupImageCases}. */
export interface ImageCase {
  /** The case: the file stem without its `_0000`-style modality suffix. */
  readonly id: string;
  /** The case's image files, one per modality, in order (`_0000`, `_0001`, …). */
  readonly files: string[];
}

const SPLITS = ['train', 'val'] as const;
const AXIS_LETTERS = ['z', 'y', 'x'] as const;
/** `case_0001`: modality 1 of `case`. */
const MODALITY = /^(.*)_(\d{4})$/;
const LOAD_OPTION_KEYS = ['labelFormat', 'size', 'axis', 'classes', 'channels'] as const;

/** @internal The modality suffix of a file name: `_0003` for modality 3. */
export function modalitySuffix(index: number): string {
  return `_${String(index).padStart(4, '0')}`;
}

/**
 * @internal Checks the loader options; `extraKeys` are further keys the caller checks itself.
 *
 * @throws InputError naming the option.
 */
export function readLoadOptions(op: string, options: LoadOptions | undefined, extraKeys: readonly string[] = []): CheckedOptions {
  checkOptionKeys(op, options, [...LOAD_OPTION_KEYS, ...extraKeys]);
  const o = options ?? {};
  const positiveInt = (name: string, v: unknown, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new InputError(op, `options.${name}`, `expected an integer in [1, ${max}], got ${String(v)}`);
    return v;
  };
  if (o.axis !== undefined && o.axis !== 0 && o.axis !== 1 && o.axis !== 2) throw new InputError(op, 'options.axis', `expected 0, 1 or 2, got ${String(o.axis)}`);
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) throw new InputError(op, 'options.channels', `expected 1 or 3, got ${String(o.channels)}`);
  return {
    labelFormat: readLabelFormat(op, o.labelFormat),
    size: positiveInt('size', o.size, 8192),
    axis: o.axis ?? 0,
    classes: positiveInt('classes', o.classes, 256),
    channels: o.channels,
  };
}

/**
 * @internal The image and label file names of a folder, sorted; refuses a missing or empty folder
 * (`missingHint` is added to the message of a missing one).
 */
export async function listImageFolder(op: string, folder: string, missingHint = ''): Promise<string[]> {
  let names: string[];
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    names = entries.filter((e) => !e.isDirectory() && !e.name.startsWith('.') && fileFormatOf(e.name) !== undefined).map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(op, folder, code === 'ENOENT' ? `missing folder${missingHint}` : code === 'ENOTDIR' ? 'not a folder' : `cannot list (${code ?? String(error)})`);
  }
  if (names.length === 0) throw new InputError(op, folder, 'empty folder: no .png, .nii or .nii.gz files');
  return names.sort();
}

/**
 * The image files in a folder (`.png`, `.nii`, `.nii.gz`), full paths, sorted by name: the inputs of
 * `predict --input DIR`.
 *
 * @throws InputError naming the folder when it is missing or holds no such file.
 */
export async function listImageFiles(folder: string): Promise<string[]> {
  return (await listImageFolder('listImageFiles', folder)).map((name) => join(folder, name));
}

/** @internal The first few names of a list, for messages: `a, b, c and 4 more`. */
export function listSome(names: readonly string[]): string {
  return names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The grouping shared by the loaders and `predict`: image files into cases, `caseOf(stem)` naming
 * each file's case and modality index (undefined: the file belongs to no case, an orphan). Two files
 * for one case and modality are refused.
 */
function groupModalities(op: string, where: string, files: readonly string[], caseOf: (stem: string) => readonly [string, number] | undefined): { cases: Map<string, Map<number, string>>; orphans: string[] } {
  const cases = new Map<string, Map<number, string>>();
  const orphans: string[] = [];
  for (const file of files) {
    const found = caseOf(stemOf(file));
    if (found === undefined) {
      orphans.push(basename(file));
      continue;
    }
    const [id, index] = found;
    const modalities = cases.get(id) ?? new Map<number, string>();
    const twin = modalities.get(index);
    if (twin !== undefined) throw new InputError(op, where, `two image files for case ${id}: ${basename(twin)} and ${basename(file)}`);
    cases.set(id, modalities.set(index, file));
  }
  return { cases, orphans };
}

/**
 * @internal A case's files in modality order (`_0000`, `_0001`, …).
 *
 * @throws InputError naming `where` and the case when the modality numbers have a gap or do not start at 0.
 */
export function modalityOrder(op: string, where: string, id: string, files: ReadonlyMap<number, string>): string[] {
  const order = [...files.keys()].sort((a, b) => a - b);
  if (order.some((m, i) => m !== i)) throw new InputError(op, where, `case ${id} has modality files ${order.map(modalitySuffix).join(', ')}: expected _0000, _0001, … without gaps`);
  return order.map((m) => files.get(m)!);
}

/**
 * Groups image files (names or paths) into cases as the dataset loaders do: `case_0000.ext`,
 * `case_0001.ext`, … are the modalities of one case `case`, in that order, when a `_0000` file of
 * the case is among them; any other file is a case of one modality named by its stem (so
 * `scan.nii.gz` stays `scan`, and `photo_2021.png` without a `photo_0000` stays `photo_2021`).
 * Cases come sorted by id. `predict` reads a folder this way; the folder loaders pair images with
 * labels by the same grouping, the label's name deciding the case.
 *
 * @throws InputError naming the case: two files for one modality (`a.png` beside `a_0000.png`), or a
 *   gap in the modality numbers (`a_0000`, `a_0002`).
 */
export function groupImageCases(files: readonly string[]): ImageCase[] {
  const op = 'groupImageCases';
  const folders = new Set(files.map((f) => dirname(f)));
  const where = files.length === 1 ? files[0]! : folders.size === 1 ? [...folders][0]! : 'files';
  const grouped = new Set(files.map((f) => MODALITY.exec(stemOf(f))).filter((m) => m !== null && Number(m[2]) === 0).map((m) => m![1]!));
  const { cases } = groupModalities(op, where, files, (stem) => {
    const match = MODALITY.exec(stem);
    return match !== null && grouped.has(match[1]!) ? [match[1]!, Number(match[2])] : [stem, 0];
  });
  return [...cases.entries()].map(([id, modalities]) => ({ id, files: modalityOrder(op, where, id, modalities) })).sort(byId);
}

/**
 * @internal Pairs image files with label files by stem (see the module doc for modality files),
 * without checking the modality order.
 *
 * @throws InputError naming the folder: two label files for one case, two image files for one
 *   modality, an image without a label or a label without an image.
 */
export function matchCases(op: string, imgDir: string, imgNames: readonly string[], gtDir: string, gtNames: readonly string[]): MatchedCase[] {
  const labels = new Map<string, string>();
  for (const name of gtNames) {
    const stem = stemOf(name);
    const twin = labels.get(stem);
    if (twin !== undefined) throw new InputError(op, gtDir, `two label files for one case: ${twin} and ${name}`);
    labels.set(stem, name);
  }
  const { cases, orphans } = groupModalities(op, imgDir, imgNames, (stem) => {
    const match = MODALITY.exec(stem);
    return labels.has(stem) ? [stem, 0] : match !== null && labels.has(match[1]!) ? [match[1]!, Number(match[2])] : undefined;
  });
  if (orphans.length > 0) throw new InputError(op, imgDir, `img/gt name mismatch: no label in ${gtDir} for ${listSome(orphans)}`);
  const unlabelled = [...labels.entries()].filter(([stem]) => !cases.has(stem)).map(([, name]) => name);
  if (unlabelled.length > 0) throw new InputError(op, gtDir, `img/gt name mismatch: no image in ${imgDir} for ${listSome(unlabelled)}`);
  return [...cases.entries()].map(([id, files]) => ({ id, files, label: labels.get(id)! })).sort(byId);
}

/** Pairs image files with label files (see {@link matchCases}) and checks the modalities: in order, as many for every case. */
function pairCases(op: string, imgDir: string, imgNames: readonly string[], gtDir: string, gtNames: readonly string[]): Case[] {
  const cases = matchCases(op, imgDir, imgNames, gtDir, gtNames).map((c) => ({
    id: c.id,
    images: modalityOrder(op, imgDir, c.id, c.files).map((name) => join(imgDir, name)),
    label: join(gtDir, c.label),
  }));
  const first = cases[0]!;
  const odd = cases.find((c) => c.images.length !== first.images.length);
  if (odd !== undefined) throw new InputError(op, imgDir, `case ${odd.id} has ${odd.images.length} image files (modalities), case ${first.id} has ${first.images.length}`);
  return cases;
}

async function loadCase(op: string, c: Case): Promise<LoadedCase> {
  const images: ImageGrid[] = [];
  for (const file of c.images) images.push(await readImageFile(op, file));
  const label = await readLabelFile(op, c.label);
  const size = (g: { shape: readonly number[] }) => g.shape.join('×');
  for (const image of images.slice(1)) {
    if (size(image) !== size(images[0]!)) throw new ShapeError(op, image.file, `image is ${size(image)} but ${images[0]!.file} of the same case is ${size(images[0]!)}`);
  }
  if (size(label) !== size(images[0]!)) throw new ShapeError(op, label.file, `label is ${size(label)} but its image ${images[0]!.file} is ${size(images[0]!)}`);
  return { id: c.id, images, label };
}

/** A case's image channels: each file converted to the channel count, normalised on its own, concatenated. */
function caseChannels(images: readonly ImageGrid[], channels: 1 | 3 | undefined): Float32Array[] {
  return images.flatMap((g) => minMaxNormalise(channels === undefined ? g.channels : withChannels(g.channels, channels)));
}

/** Cuts normalised channels (and a label) of one grid into slices, resized when asked. */
function cutSlices(
  id: string,
  file: string,
  grid: { shape: [number, number, number]; spacing: [number, number, number]; format: FileFormat },
  channels: readonly Float32Array[],
  label: Uint8Array,
  axis: VolumeAxis,
  size: number | undefined,
): Slice[] {
  const sliceAxis: VolumeAxis = grid.format === 'png' ? 0 : axis;
  const [h, w] = planeShape(grid.shape, sliceAxis);
  const [sh, sw] = planeShape(grid.spacing, sliceAxis);
  const [outH, outW] = size === undefined ? [h, w] : [size, size];
  const slices: Slice[] = [];
  for (let index = 0; index < grid.shape[sliceAxis]; index++) {
    const image = new Float32Array(channels.length * outH * outW);
    channels.forEach((c, k) => image.set(resizeBilinear(slicePlane(c, grid.shape, sliceAxis, index), h, w, outH, outW), k * outH * outW));
    slices.push({
      id: grid.format === 'png' ? id : `${id}_${AXIS_LETTERS[sliceAxis]}${String(index).padStart(3, '0')}`,
      image,
      label: resizeNearest(slicePlane(label, grid.shape, sliceAxis, index), h, w, outH, outW),
      channels: channels.length,
      height: outH,
      width: outW,
      spacing: [(sh * h) / outH, (sw * w) / outW],
      source: grid.format === 'png' ? { file } : { file, index, axis: sliceAxis },
      ...(grid.format === 'png' ? {} : { volume: { id, index, thickness: grid.spacing[sliceAxis] } }),
    });
  }
  return slices;
}

/** Most classes inferred from the label values when `classes` is not given. */
export const MAX_INFERRED_CLASSES = 32;

/**
 * Classes implied by the labels' largest value when `classes` is not given (at least 2). The
 * values must then be the contiguous class indices 0 … largest (a mask of only 0 or only 1 is a
 * binary one), and at most `MAX_INFERRED_CLASSES`: one stray value (7 in a 0/1 mask) or a
 * grayscale picture read as labels is refused, naming the values found, instead of silently
 * making 8 or 256 classes.
 */
function inferClasses(op: string, where: string, values: readonly number[], format: 'indices' | 'binary255'): number {
  if (format === 'binary255') return 2;
  const largest = values[values.length - 1] ?? 0;
  const classes = Math.max(2, largest + 1);
  const found = `label values ${listSome(values.map(String))} would make ${classes} classes`;
  if (classes > MAX_INFERRED_CLASSES) {
    throw new InputError(op, where, `${found}: pass classes explicitly (--classes K) if this is a label map (more than ${MAX_INFERRED_CLASSES} classes are never inferred), or labelFormat 'binary255' for 0/255 masks`);
  }
  const present = new Set(values);
  const absent = Array.from({ length: classes }, (_, k) => k).filter((k) => !present.has(k));
  if (largest > 1 && absent.length > 0) {
    throw new InputError(op, where, `${found}: pass classes explicitly (--classes K) if they are class indices (${listSome(absent.map(String))} never occur${absent.length === 1 ? 's' : ''}), or labelFormat 'binary255' for 0/255 masks`);
  }
  return classes;
}

/** @internal Refuses a path that is not a folder (`missingHint` is added to the message of a missing one). */
export async function requireFolder(op: string, dir: string, missingHint = ''): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) throw new InputError(op, dir, `missing folder${missingHint}`);
  if (!info.isDirectory()) throw new InputError(op, dir, 'not a folder');
}

/** Added to the "missing folder" errors of {@link loadDataset}: the two layouts the command line reads. */
const LAYOUTS_HINT = ': a dataset folder holds train/img, train/gt, val/img and val/gt, or is an nnU-Net raw dataset (dataset.json, imagesTr, labelsTr)';

/** @internal What {@link casesToDataset} needs besides the cases. */
export interface CaseSet {
  /** The dataset folder, for messages and notes. */
  readonly dir: string;
  readonly train: readonly Case[];
  readonly val: readonly Case[];
  /** Checks each case once read (e.g. its channels against a dataset description); throws to refuse it. */
  readonly checkCase?: (c: LoadedCase) => void;
}

/**
 * @internal The one path from cases to a dataset, shared by the folder and nnU-Net loaders: reads
 * every case, decides the label format (`auto` over all labels together) and the classes, normalises
 * and converts the channels, cuts the volumes into slices along `axis` (resized to `size`), checks
 * that all slices agree in size and channels, and writes the notes.
 *
 * @throws InputError / ShapeError naming the file (see {@link loadDataset}).
 */
export async function casesToDataset(op: string, set: CaseSet, o: CheckedOptions): Promise<Dataset> {
  const { dir } = set;
  const loaded: LoadedCase[][] = [];
  for (const cases of [set.train, set.val]) {
    const split: LoadedCase[] = [];
    for (const c of cases) {
      const read = await loadCase(op, c);
      set.checkCase?.(read);
      split.push(read);
    }
    loaded.push(split);
  }
  const all = loaded.flat();
  const modalities = all[0]!.images.length;
  if (all.some((c) => c.images.length !== modalities)) {
    const odd = all.find((c) => c.images.length !== modalities)!;
    throw new InputError(op, odd.images[0]!.file, `case has ${odd.images.length} modality files, ${all[0]!.images[0]!.file} has ${modalities}`);
  }

  const distinct = all.map((c) => distinctLabelValues(op, c.label.file, c.label.values, c.label.shape));
  const union = [...new Set(distinct.flat())].sort((a, b) => a - b);
  const format = resolveLabelFormat(o.labelFormat, union);
  const classes = o.classes ?? inferClasses(op, dir, union, format);
  const colour = all.some((c) => c.images.some((g) => g.channels.length === 3));
  const channelCount = o.channels ?? (colour ? 3 : undefined);

  const trainIds = new Set(loaded[0]!.map((c) => c.id));
  const valPrefix = loaded[1]!.some((c) => trainIds.has(c.id)) ? 'val-' : '';
  const [train, val] = loaded.map((split, s) => split.flatMap((c) => {
    const first = c.images[0]!;
    const label = toClassIndices(op, c.label.file, c.label.values, c.label.shape, format, classes);
    const channels = caseChannels(c.images, channelCount);
    return cutSlices(`${s === 1 ? valPrefix : ''}${c.id}`, first.file, first, channels, label, o.axis, o.size);
  })) as [Slice[], Slice[]];

  const reference = train[0]!;
  for (const slice of [...train, ...val]) {
    if (slice.height !== reference.height || slice.width !== reference.width) {
      throw new ShapeError(op, slice.source!.file, `slices are ${slice.height}×${slice.width} but those of ${reference.source!.file} are ${reference.height}×${reference.width}: pass size to resize every slice`);
    }
    if (slice.channels !== reference.channels) {
      throw new ShapeError(op, slice.source!.file, `has ${slice.channels} channels but ${reference.source!.file} has ${reference.channels}`);
    }
  }

  const slices = [...train, ...val];
  let foreground = 0;
  let pixels = 0;
  for (const s of slices) {
    pixels += s.label.length;
    for (const v of s.label) if (v > 0) foreground++;
  }
  const empty = slices.filter((s) => s.label.every((v) => v === 0)).length;
  const fileFormat = all[0]!.label.format === 'png' ? 'PNG' : 'NIfTI';
  const notes = [
    `${train.length} train and ${val.length} val slices of ${reference.height}×${reference.width}, ${reference.channels} channel(s), from ${all.length} ${fileFormat} cases in ${dir}`,
    `labels: ${format}${o.labelFormat === 'auto' ? ' (auto-detected)' : ''}, stored values ${listSome(union.map(String))}, ${classes} classes`,
    `foreground fraction ${formatPercent(foreground / Math.max(1, pixels))}; slices without foreground ${formatPercent(empty / slices.length)}`,
  ];
  if (o.size !== undefined) notes.push(`resized to ${o.size}×${o.size} (images bilinear, labels nearest; spacing scaled)`);
  if (valPrefix) notes.push("val slice ids got the prefix 'val-' (names shared with train)");
  return { name: basename(dir), classes, channels: reference.channels, height: reference.height, width: reference.width, train, val, notes };
}

/**
 * Loads a dataset folder (layout in the module doc) into 2-D slices. An nnU-Net raw dataset
 * (`dataset.json`, `imagesTr`, `labelsTr`) is read by `loadNnunetDataset` instead.
 *
 * @throws InputError / ShapeError naming the file or folder, one line: missing or empty folders
 *   (a missing one names both layouts; a folder holding a `dataset.json` says to use
 *   `loadNnunetDataset`), img/gt name mismatch, mixed formats, image/label size mismatch, labels
 *   outside the class range (or not 0/255 for `binary255`), corrupt or truncated PNG/NIfTI, slices
 *   of different sizes or channel counts without `size`.
 */
export async function loadDataset(dir: string, options?: LoadOptions): Promise<Dataset> {
  const op = 'loadDataset';
  const o = readLoadOptions(op, options);
  await requireFolder(op, dir, LAYOUTS_HINT);
  const nnunet = (await stat(join(dir, 'dataset.json')).catch(() => undefined))?.isFile() === true;
  const hint = nnunet ? `: ${dir} holds a dataset.json, an nnU-Net raw dataset: read it with loadNnunetDataset (the command line's --data does)` : LAYOUTS_HINT;
  // NOTE: both splits are listed at once, but a failure is reported in split order (train first),
  // so the same folder always gives the same message.
  const settled = await Promise.allSettled(SPLITS.map(async (split) => {
    const imgDir = join(dir, split, 'img');
    const gtDir = join(dir, split, 'gt');
    const [imgNames, gtNames] = [await listImageFolder(op, imgDir, hint), await listImageFolder(op, gtDir, hint)];
    const formats = new Set([...imgNames, ...gtNames].map((n) => fileFormatOf(n)));
    if (formats.size > 1) throw new InputError(op, join(dir, split), 'mixes PNG and NIfTI files: use one format');
    return { formats, cases: pairCases(op, imgDir, imgNames, gtDir, gtNames) };
  }));
  const caseLists = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  if (new Set(caseLists.flatMap((l) => [...l.formats])).size > 1) throw new InputError(op, dir, 'train and val use different formats (PNG and NIfTI): use one');
  return casesToDataset(op, { dir, train: caseLists[0]!.cases, val: caseLists[1]!.cases }, o);
}

/** What {@link loadLabels} returns. */
export interface LoadedLabels {
  /** Class indices, row-major: `[H, W]` for a PNG, `[z, y, x]` for a NIfTI volume. */
  readonly labels: Uint8Array;
  readonly shape: number[];
  /** Per axis of `shape`: `[1, 1]` for a PNG, `[z, y, x]` mm for NIfTI. */
  readonly spacing: number[];
  readonly format: 'png' | 'nifti';
  /** The NIfTI header, for writing maps with the same orientation. */
  readonly header?: Uint8Array;
}

/**
 * Loads one label file (PNG slice or NIfTI volume) as class indices, whole (neither resized nor
 * sliced: `size` and `axis` are ignored). `auto` label format is decided for this file; without
 * `classes` the classes are inferred as {@link loadDataset} does (contiguous values, at most
 * `MAX_INFERRED_CLASSES`).
 *
 * @throws InputError naming the file (see {@link loadDataset}).
 */
export async function loadLabels(path: string, options?: LoadOptions): Promise<LoadedLabels> {
  const op = 'loadLabels';
  const o = readLoadOptions(op, options);
  const grid = await readLabelFile(op, path);
  const distinct = distinctLabelValues(op, path, grid.values, grid.shape);
  const format = resolveLabelFormat(o.labelFormat, distinct);
  const classes = o.classes ?? inferClasses(op, path, distinct, format);
  const labels = toClassIndices(op, path, grid.values, grid.shape, format, classes);
  const png = grid.format === 'png';
  return {
    labels,
    shape: png ? grid.shape.slice(1) : [...grid.shape],
    spacing: png ? grid.spacing.slice(1) : [...grid.spacing],
    format: grid.format,
    ...(grid.volume === undefined ? {} : { header: grid.volume.header }),
  };
}

/** What {@link loadImageFile} returns. */
export interface LoadedImage {
  /** The slices (labels all 0: there is no ground truth), resized to `size` when asked. */
  readonly slices: Slice[];
  readonly format: 'png' | 'nifti';
  /** The (first modality's) NIfTI volume: shape, spacing and header for writing predictions back. */
  readonly volume?: NiftiVolume;
  /** In-plane size `[height, width]` of the slices before resizing. */
  readonly size: [number, number];
  /** The slicing axis used (0 for PNG). */
  readonly axis: VolumeAxis;
}

/**
 * Loads one image for `predict`: a PNG slice, or a NIfTI volume cut into slices along `axis`,
 * normalised and channel-converted as {@link loadDataset} does (without `channels`, a PNG gets 3
 * channels only if it is colour). Several files (one per modality, in order) may be given as an array.
 *
 * @throws InputError / ShapeError naming the file.
 */
export async function loadImageFile(path: string | readonly string[], options?: LoadOptions): Promise<LoadedImage> {
  const op = 'loadImageFile';
  const o = readLoadOptions(op, options);
  const paths = typeof path === 'string' ? [path] : [...path];
  if (paths.length === 0) throw new InputError(op, 'path', 'expected at least one file');
  const images: ImageGrid[] = [];
  for (const file of paths) images.push(await readImageFile(op, file));
  const first = images[0]!;
  for (const image of images.slice(1)) {
    if (image.shape.join() !== first.shape.join()) throw new ShapeError(op, image.file, `image is ${image.shape.join('×')} but ${first.file} is ${first.shape.join('×')}`);
  }
  const channels = caseChannels(images, o.channels ?? (images.some((g) => g.channels.length === 3) ? 3 : undefined));
  const axis: VolumeAxis = first.format === 'png' ? 0 : o.axis;
  const label = new Uint8Array(first.channels[0]!.length);
  const slices = cutSlices(stemOf(first.file), first.file, first, channels, label, axis, o.size);
  return {
    slices,
    format: first.format,
    ...(first.volume === undefined ? {} : { volume: first.volume }),
    size: planeShape(first.shape, axis),
    axis,
  };
}
