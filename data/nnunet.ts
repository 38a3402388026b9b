/**
 * nnU-Net v2 raw datasets (`nnUNet_raw/Dataset001_Name`), read as a {@link Dataset}:
 *
 * ```
 * Dataset001_Name/
 *   dataset.json        channel_names, labels, numTraining, file_ending
 *   imagesTr/           case_0000<ending>, case_0001<ending>, … (one file per channel)
 *   labelsTr/           case<ending>
 *   splits_final.json   (optional) [{ "train": [case ids], "val": [case ids] }, …] (one per fold)
 * ```
 *
 * `dataset.json`: `channel_names` (`{"0": "T1", "1": "FLAIR"}`) gives the channels and their order;
 * `labels` (`{"background": 0, "lesion": 1}`) maps names to the class indices 0 … K − 1;
 * `numTraining` must be the number of cases found; `file_ending` one of `.nii.gz`, `.nii`, `.png`.
 * Other fields are ignored. Refused: region labels (a label whose value is a list, nnU-Net's
 * `regions_class_order` datasets), the `ignore` label, class indices with gaps, a missing or extra
 * channel file, a file of another ending. A `.png` dataset of three channels may keep each case in
 * one RGB file `case_0000.png` (nnU-Net's natural-image reader), otherwise every channel is its own
 * gray file.
 *
 * The cases go through the folder loader's path (`casesToDataset` in `data/folders.ts`): each channel
 * file min-max normalised on its own, volumes cut along `axis`, `size` resizing. Labels are read as
 * class indices (`labelFormat` `auto` means `indices` here). The validation split: a fold of the
 * given splits, else of `splits_final.json` in the folder, else a seeded 80/20 split of the cases.
 * imagesTs (cases without labels) is not read here: `predict` segments it.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { key, uniformArray } from '../core/random.js';
import { type Case, type CheckedOptions, type LoadOptions, type LoadedCase, type MatchedCase, casesToDataset, listImageFolder, listSome, matchCases, modalitySuffix, readLoadOptions, requireFolder } from './folders.js';
import type { Dataset, DatasetSplit } from './types.js';

/** The `file_ending`s of `dataset.json` that the loaders read. */
export const NNUNET_FILE_ENDINGS = ['.nii.gz', '.nii', '.png'] as const;

/** One of {@link NNUNET_FILE_ENDINGS}. */
export type NnunetFileEnding = (typeof NNUNET_FILE_ENDINGS)[number];

/** One fold of `splits_final.json`: the case ids to train on and to validate on. */
export interface NnunetFold {
  readonly train: readonly string[];
  readonly val: readonly string[];
}

/** What `dataset.json` says, checked. */
export interface NnunetDescription {
  /** The `dataset.json` read. */
  readonly file: string;
  /** `channel_names`, index = channel. */
  readonly channelNames: string[];
  /** The names of `labels`, index = class. */
  readonly classNames: string[];
  readonly numTraining: number;
  readonly fileEnding: NnunetFileEnding;
}

/**
 * Options of {@link loadNnunetDataset}: those of the folder loader (`classes`, when given, must be
 * the number of `labels`; `channels` must agree with `channel_names`; `labelFormat` `auto` reads
 * class indices), and the validation split.
 */
export interface NnunetOptions extends LoadOptions {
  /**
   * The folds of a `splits_final.json`, parsed (see {@link readSplits}). Default: the folder's
   * `splits_final.json` when there is one, else a seeded 80/20 split of the cases.
   */
  readonly splits?: readonly NnunetFold[];
  /** Where `splits` came from, for messages and `Dataset.split.file`. */
  readonly splitsFile?: string;
  /** The fold of the splits to use (0-based); default 0. Only with splits. */
  readonly fold?: number;
  /** Seed of the 80/20 split when there are no splits; default 0. Not with splits. */
  readonly seed?: number;
}

/** Share of the cases that a seeded split validates on (at least one case, at most all but one). */
const VAL_FRACTION = 0.2;
const SPLITS_FILE = 'splits_final.json';

/** Whether `dir` holds a `dataset.json` (a file): it is then read as an nnU-Net raw dataset. */
export async function isNnunetFolder(dir: string): Promise<boolean> {
  return (await stat(join(dir, 'dataset.json')).catch(() => undefined))?.isFile() === true;
}

async function readJson(op: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(op, file, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a JSON file' : `cannot read (${code ?? String(error)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(op, file, `not valid JSON (${(error as Error).message})`);
  }
}

const isObject = (u: unknown): u is Record<string, unknown> => u !== null && typeof u === 'object' && !Array.isArray(u);
const show = (u: unknown): string => (u === undefined ? 'nothing' : JSON.stringify(u));

/**
 * Checks a parsed `dataset.json` (see the module doc for what is refused).
 *
 * @param file where it was read, named in the errors.
 * @throws InputError naming `file` and the field.
 */
export function parseDatasetJson(file: string, json: unknown): NnunetDescription {
  const op = 'parseDatasetJson';
  const fail = (message: string) => new InputError(op, file, message);
  if (!isObject(json)) throw fail(`expected a JSON object, got ${Array.isArray(json) ? 'an array' : show(json)}`);

  const channels = json['channel_names'];
  if (channels === undefined) {
    throw fail(`no channel_names${'modality' in json ? ": this is an nnU-Net v1 dataset.json ('modality'); convert it with nnUNetv2_convert_old_nnUNet_dataset" : ''}`);
  }
  if (!isObject(channels)) throw fail(`channel_names: expected an object of channel index to name, got ${show(channels)}`);
  const channelEntries = Object.entries(channels);
  const channelNames: string[] = [];
  for (const [k, name] of channelEntries) {
    if (!/^\d+$/.test(k)) throw fail(`channel_names: key "${k}" is not a channel index (0, 1, …)`);
    if (typeof name !== 'string') throw fail(`channel_names: channel ${k} is ${show(name)}, expected a name (a string)`);
    channelNames[Number(k)] = name;
  }
  if (channelEntries.length === 0) throw fail('channel_names is empty: expected at least one channel');
  const channelKeys = channelEntries.map(([k]) => Number(k)).sort((a, b) => a - b);
  if (channelKeys.some((k, i) => k !== i)) throw fail(`channel_names has the channels ${channelKeys.join(', ')}: expected 0 … ${channelKeys.length - 1} without gaps`);

  if ('regions_class_order' in json) throw fail('regions_class_order: region-based training (labels that are lists of classes) is not supported');
  const labels = json['labels'];
  if (!isObject(labels)) throw fail(`labels: expected an object of label name to class index, got ${show(labels)}`);
  const classNames: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (Array.isArray(value)) throw fail(`labels: '${name}' is the region ${JSON.stringify(value)}: region-based training (nnU-Net's regions_class_order) is not supported; give each label one class index`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw fail(`labels: '${name}' is ${show(value)}, expected a class index (a non-negative integer)`);
    if (name === 'ignore') throw fail(`labels: 'ignore' (${value}), nnU-Net's ignore label, is not supported: every pixel must be labelled with a class`);
    const twin = classNames[value];
    if (twin !== undefined) throw fail(`labels: '${twin}' and '${name}' are both class ${value}`);
    classNames[value] = name;
  }
  const values = Object.values(labels) as number[];
  const classes = Math.max(-1, ...values) + 1;
  const absent = Array.from({ length: classes }, (_, k) => k).filter((k) => classNames[k] === undefined);
  if (classNames[0] === undefined) throw fail(`labels: no class 0: the background must be 0 (labels are ${show(labels)})`);
  if (absent.length > 0) throw fail(`labels: the class indices must be 0 … K − 1 without gaps, but ${listSome(absent.map(String))} ${absent.length === 1 ? 'is' : 'are'} missing (labels are ${show(labels)})`);
  if (classes < 2) throw fail(`labels: only the background (${show(labels)}): expected at least 2 classes`);
  if (classes > 256) throw fail(`labels: ${classes} classes, at most 256 are supported`);

  const numTraining = json['numTraining'];
  if (typeof numTraining !== 'number' || !Number.isSafeInteger(numTraining) || numTraining < 0) throw fail(`numTraining: expected a non-negative integer, got ${show(numTraining)}`);
  const ending = json['file_ending'];
  const fileEnding = NNUNET_FILE_ENDINGS.find((e) => e === ending);
  if (fileEnding === undefined) throw fail(`file_ending: ${show(ending)} is not read here: expected one of ${NNUNET_FILE_ENDINGS.join(', ')}`);
  return { file, channelNames, classNames, numTraining, fileEnding };
}

/**
 * Checks parsed splits (the content of a `splits_final.json`): a non-empty array of
 * `{ "train": [case ids], "val": [case ids] }`, one per fold (other fields are ignored).
 *
 * @param where the file (or argument) they came from, named in the errors.
 * @throws InputError naming `where` and the fold.
 */
export function parseSplits(where: string, json: unknown): NnunetFold[] {
  const op = 'parseSplits';
  if (!Array.isArray(json) || json.length === 0) throw new InputError(op, where, `expected a non-empty array of folds ({ "train": [case ids], "val": [case ids] }), got ${Array.isArray(json) ? 'an empty array' : show(json)}`);
  return json.map((fold: unknown, k) => {
    if (!isObject(fold)) throw new InputError(op, where, `fold ${k}: expected { "train": [case ids], "val": [case ids] }, got ${show(fold)}`);
    const list = (name: 'train' | 'val'): string[] => {
      const ids = fold[name];
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new InputError(op, where, `fold ${k}: ${name}: expected an array of case ids (strings), got ${show(ids)}`);
      return ids as string[];
    };
    return { train: list('train'), val: list('val') };
  });
}

/**
 * Reads a `splits_final.json` (nnU-Net writes it to `nnUNet_preprocessed/DatasetXXX_Name/`).
 *
 * @throws InputError naming the file: unreadable, not JSON, not an array of folds (see {@link parseSplits}).
 */
export async function readSplits(file: string): Promise<NnunetFold[]> {
  return parseSplits(file, await readJson('readSplits', file));
}

/** The train and val ids of fold `fold`, checked against the cases. */
function foldOf(op: string, where: string, folds: readonly NnunetFold[], fold: number, ids: readonly string[]): { train: string[]; val: string[] } {
  if (fold >= folds.length) throw new InputError(op, where, `fold ${fold} is out of range: ${folds.length} fold${folds.length === 1 ? '' : 's'} (0 … ${folds.length - 1})`);
  const { train, val } = folds[fold]!;
  const known = new Set(ids);
  for (const [name, list] of [['train', train], ['val', val]] as const) {
    if (list.length === 0) throw new InputError(op, where, `fold ${fold} has no ${name} cases`);
    const twice = list.filter((id, i) => list.indexOf(id) !== i);
    if (twice.length > 0) throw new InputError(op, where, `fold ${fold} lists ${listSome([...new Set(twice)])} twice in ${name}`);
    const unknown = list.filter((id) => !known.has(id));
    if (unknown.length > 0) throw new InputError(op, where, `fold ${fold} names ${listSome(unknown)} in ${name}, not ${unknown.length === 1 ? 'a case' : 'cases'} of the dataset (imagesTr/labelsTr)`);
  }
  const inVal = new Set(val);
  const both = train.filter((id) => inVal.has(id));
  if (both.length > 0) throw new InputError(op, where, `fold ${fold} has ${listSome(both)} in both train and val`);
  const listed = new Set([...train, ...val]);
  const neither = ids.filter((id) => !listed.has(id));
  if (neither.length > 0) throw new InputError(op, where, `fold ${fold} leaves out ${listSome(neither)}: ${neither.length === 1 ? 'a case' : 'cases'} in neither train nor val`);
  return { train: [...train].sort(), val: [...val].sort() };
}

/** A seeded 80/20 split of sorted case ids: a Fisher–Yates shuffle drawn from `key(seed)`, the first 20 % (at least 1, at most all but 1) validate. */
function seededSplit(ids: readonly string[], seed: number): { train: string[]; val: string[] } {
  const order = [...ids];
  const u = uniformArray(key(seed), order.length);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const valCount = Math.min(order.length - 1, Math.max(1, Math.round(order.length * VAL_FRACTION)));
  return { train: order.slice(valCount).sort(), val: order.slice(0, valCount).sort() };
}

function nonNegativeInt(op: string, name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InputError(op, `options.${name}`, `expected a non-negative integer, got ${String(v)}`);
  return v;
}

/**
 * Checks each case's files against `dataset.json` and orders them: `case_0000<ending>` …
 * `case_<C−1><ending>`, or one `case_0000.png` holding an RGB picture for three channels. Returns
 * the cases and the channels each file gives (1, or 3 for the RGB files).
 */
function checkCaseFiles(op: string, imagesTr: string, labelsTr: string, d: NnunetDescription, matched: readonly MatchedCase[]): { cases: Case[]; perFile: 1 | 3 } {
  const C = d.channelNames.length;
  const channel = (k: number) => `channel ${k}, ${JSON.stringify(d.channelNames[k])} in dataset.json`;
  const rgb = (c: MatchedCase) => d.fileEnding === '.png' && C === 3 && c.files.size === 1 && c.files.has(0);
  const first = matched[0]!;
  const cases = matched.map((c) => {
    if (rgb(c) !== rgb(first)) throw new InputError(op, imagesTr, `case ${c.id} has ${c.files.size} image file(s) but case ${first.id} has ${first.files.size}: keep the three channels in one RGB file for every case or in three files for every case`);
    const expected = rgb(c) ? 1 : C;
    const extra = [...c.files.keys()].filter((k) => k >= expected).sort((a, b) => a - b);
    if (extra.length > 0) throw new InputError(op, imagesTr, `case ${c.id} has ${c.files.get(extra[0]!)} but dataset.json's channel_names has ${C} channel${C === 1 ? '' : 's'} (${d.channelNames.map((n, k) => `${k} ${n}`).join(', ')})`);
    const images = Array.from({ length: expected }, (_, k) => {
      const name = `${c.id}${modalitySuffix(k)}${d.fileEnding}`;
      const found = c.files.get(k);
      if (found === undefined) throw new InputError(op, imagesTr, `case ${c.id} has no ${name} (${channel(k)})`);
      if (found !== name) throw new InputError(op, imagesTr, `case ${c.id}: ${found} should be named ${name} (${channel(k)})`);
      return join(imagesTr, name);
    });
    return { id: c.id, images, label: join(labelsTr, c.label) };
  });
  return { cases, perFile: rgb(first) ? 3 : 1 };
}

/**
 * Loads an nnU-Net v2 raw dataset folder (`dataset.json`, `imagesTr`, `labelsTr`; see the module
 * doc) into 2-D slices, train and val split by case: a fold of `splits` (default: the folder's
 * `splits_final.json`), else a seeded 80/20 split. The dataset records the split (`split`), the
 * class names (`classNames`, from `labels`) and the channel names (`channelNames`), and its notes
 * say both.
 *
 * @throws InputError / ShapeError naming the file or folder, one line: a bad `dataset.json` (see
 *   {@link parseDatasetJson}), a missing or extra channel file, a file of another ending, a
 *   `numTraining` that is not the number of cases, labels outside the classes of `labels`, bad
 *   splits (unknown case ids, a case in both lists or in neither, a fold out of range), `fold`
 *   without splits or `seed` with them, fewer than 2 cases for a seeded split, and what
 *   `loadDataset` refuses (corrupt files, size mismatches, …).
 */
export async function loadNnunetDataset(dir: string, options?: NnunetOptions): Promise<Dataset> {
  const op = 'loadNnunetDataset';
  const o = readLoadOptions(op, options, ['splits', 'splitsFile', 'fold', 'seed']);
  const fold = nonNegativeInt(op, 'fold', options?.fold);
  const seed = nonNegativeInt(op, 'seed', options?.seed);
  if (options?.splitsFile !== undefined && (typeof options.splitsFile !== 'string' || options.splits === undefined)) {
    throw new InputError(op, 'options.splitsFile', typeof options.splitsFile !== 'string' ? `expected a file name, got ${show(options.splitsFile)}` : 'names where splits came from: give splits with it');
  }
  await requireFolder(op, dir);
  const jsonFile = join(dir, 'dataset.json');
  const d = parseDatasetJson(jsonFile, await readJson(op, jsonFile));
  const K = d.classNames.length;
  if (o.classes !== undefined && o.classes !== K) throw new InputError(op, jsonFile, `its labels give ${K} classes (${d.classNames.join(', ')}), not the ${o.classes} asked for`);

  const imagesTr = join(dir, 'imagesTr');
  const labelsTr = join(dir, 'labelsTr');
  const imgNames = await listImageFolder(op, imagesTr);
  const gtNames = await listImageFolder(op, labelsTr);
  for (const [folder, names] of [[imagesTr, imgNames], [labelsTr, gtNames]] as const) {
    const odd = names.filter((n) => !n.endsWith(d.fileEnding));
    if (odd.length > 0) throw new InputError(op, folder, `${listSome(odd)}: not of dataset.json's file_ending ${d.fileEnding}`);
  }
  const matched = matchCases(op, imagesTr, imgNames, labelsTr, gtNames);
  if (matched.length !== d.numTraining) throw new InputError(op, jsonFile, `numTraining is ${d.numTraining} but imagesTr/labelsTr hold ${matched.length} case${matched.length === 1 ? '' : 's'}`);
  const { cases, perFile } = checkCaseFiles(op, imagesTr, labelsTr, d, matched);
  if (o.channels !== undefined && o.channels !== perFile) throw new InputError(op, 'options.channels', `the channels come from ${jsonFile} (${d.channelNames.length}: ${d.channelNames.join(', ')}), ${perFile} per image file; got ${o.channels}`);

  const ids = cases.map((c) => c.id);
  const folderSplits = join(dir, SPLITS_FILE);
  const splits = options?.splits !== undefined
    ? { folds: parseSplits(options.splitsFile ?? 'options.splits', options.splits), where: options.splitsFile ?? 'options.splits', file: options.splitsFile }
    : (await stat(folderSplits).catch(() => undefined))?.isFile() ? { folds: await readSplits(folderSplits), where: folderSplits, file: folderSplits } : undefined;
  let split: DatasetSplit;
  if (splits !== undefined) {
    if (seed !== undefined) throw new InputError(op, 'options.seed', `the seed (--data-seed) sets the seeded 80/20 split, but the split here comes from ${splits.where} (fold ${fold ?? 0})`);
    const chosen = foldOf(op, splits.where, splits.folds, fold ?? 0, ids);
    split = { source: 'splits', ...(splits.file !== undefined ? { file: splits.file } : {}), fold: fold ?? 0, ...chosen };
  } else {
    if (fold !== undefined) throw new InputError(op, dir, `fold ${fold} asked for, but there are no splits: give them (--splits FILE) or put a ${SPLITS_FILE} in the folder; without, the split is a seeded 80/20 one of the cases`);
    if (ids.length < 2) throw new InputError(op, dir, `has ${ids.length} case: a train/val split needs at least 2`);
    split = { source: 'seeded', seed: seed ?? 0, ...seededSplit(ids, seed ?? 0) };
  }

  const byId = new Map(cases.map((c) => [c.id, c]));
  const checked: CheckedOptions = { ...o, labelFormat: o.labelFormat === 'auto' ? 'indices' : o.labelFormat, classes: K, channels: perFile };
  const checkCase = (c: LoadedCase) => {
    const colour = perFile === 1 ? c.images.find((g) => g.channels.length !== 1) : undefined;
    if (colour !== undefined) throw new InputError(op, colour.file, `is a colour PNG (R, G, B differ) but dataset.json's channel_names gives each image file one channel`);
  };
  const ds = await casesToDataset(op, { dir, train: split.train.map((id) => byId.get(id)!), val: split.val.map((id) => byId.get(id)!), checkCase }, checked);
  const caseCount = (n: number) => `${n} case${n === 1 ? '' : 's'}`;
  const how = split.source === 'splits' ? `fold ${split.fold} of ${split.file ?? 'the given splits'}` : `seeded 80/20 of the ${caseCount(ids.length)} (seed ${split.seed}; no ${SPLITS_FILE})`;
  const notes = [
    `nnU-Net raw dataset ${basename(dir)}: channels ${d.channelNames.map((n, k) => `${k} ${n}`).join(', ')}; classes ${d.classNames.map((n, k) => `${k} ${n}`).join(', ')}`,
    `split: ${how}: ${split.train.length} train and ${split.val.length} val case${split.val.length === 1 ? '' : 's'} (val: ${listSome(split.val)})`,
  ];
  return { ...ds, notes: [...notes, ...ds.notes], split, classNames: d.classNames, channelNames: d.channelNames };
}
