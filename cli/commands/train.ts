/**
 * `boundary-seg train`: trains a U-Net (or the reference network, `--arch reference`) on a
 * dataset folder or the synthetic benchmark and leaves a run folder: `config.json`,
 * `metrics.csv`, `best.ckpt`, `last.ckpt`, learning curves, overlays and the validation results
 * of the best checkpoint.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { dirname, join, resolve } from 'node:path';
import { dispose } from '../../core/engine.js';
import { writeFileAtomic } from '../../data/index.js';
import { removeTemporaryFiles } from '../../core/files.js';
import type { Dataset } from '../../data/types.js';
import { readCheckpointFile, readRunRows, restoreCheckpoint, type Checkpoint, type CheckpointFile } from '../../models/checkpoint.js';
import { describeNetwork, type NetworkConfig } from '../../models/networks.js';
import { NetworkConfigCodec } from '../../models/train-config.js';
import { evaluateSet, type SetEvaluation } from '../../models/evaluate.js';
import { diagnose, isSaturated, LEARNS_THRESHOLD, SATURATION_THRESHOLD } from '../../models/diagnostics.js';
import { configDifferences, train, type TrainResult } from '../../models/train.js';
import type { TrainConfig } from '../../models/train-config.js';
import { helpText, parseArgs, type FlagValue } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { loadData } from '../datasets.js';
import { trainingData } from '../../models/data-source.js';
import { asData, DataError, UsageError } from '../errors.js';
import { trainFlags, flagsElsewhere } from '../flags.js';
import { predictSlices } from '../inference.js';
import { createProgress, formatDuration, type Progress } from '../progress.js';
import { classLabel, curveOf, fmt, overlayChoice, plural, toJson, writeCurves, writeEvalResults, writeOverlays } from '../report.js';
import { checkOutFolder, createOutFolder, defaultOut, runEnvironment, selectBackend, warnAbout, type RunEnvironment } from '../runtime.js';
import { buildTrainConfig, checkSliceSize, DEFAULT_CONVENTION, DEFAULT_GDL_WEIGHTS, describeAugment, recordedFlags, resumeFlags, type TrainFlags } from '../train-setup.js';

const SUMMARY = 'train a U-Net (or the reference network, --arch reference) with the boundary loss (or other losses) and keep the best checkpoint';
const USAGE = 'train (--data DIR | --synthetic) [--out DIR] [--losses gdl,boundary] [--schedule rebalance] [--epochs N] [flags]';

/** `train --help`. */
export const trainHelp = (): string => helpText('train', SUMMARY, USAGE, trainFlags);

/**
 * Where a resumed run continues: its folder, and its last checkpoint unless the run was killed
 * before writing one (`file` undefined: the run starts again from its recorded flags).
 */
async function resumeTarget(path: string): Promise<{ dir: string; file?: string }> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UsageError(`--resume ${path}: no such file or folder`);
  if (!st.isDirectory()) return { dir: dirname(path), file: path };
  const last = join(path, 'last.ckpt');
  if (await stat(last).catch(() => undefined)) return { dir: path, file: last };
  if (!(await stat(join(path, 'run.json')).catch(() => undefined))) throw new UsageError(`--resume ${path}: not a run folder (neither last.ckpt nor run.json)`);
  return { dir: path };
}

/** The flags a run was started with (`run.json`), so `--resume DIR` needs no other flag. */
async function storedFlags(dir: string): Promise<Record<string, FlagValue>> {
  const file = join(dir, 'run.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`--resume ${dir}: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const json = JSON.parse(text) as { flags?: Record<string, FlagValue> };
    return json.flags ?? {};
  } catch (e) {
    throw new UsageError(`--resume ${dir}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** The network a run folder's `run.json` records in its config (undefined when it records none). */
async function storedModel(dir: string): Promise<NetworkConfig | undefined> {
  try {
    const json = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as { config?: { model?: unknown } };
    const decoded = NetworkConfigCodec.decode(json.config?.model);
    return E.isRight(decoded) ? decoded.right : undefined;
  } catch {
    return undefined;
  }
}

/** Files a run killed before its first `last.ckpt` may have left, removed when it starts again. */
const RESTART_LEFTOVERS = ['best.ckpt', 'metrics.csv'];

/**
 * One line per epoch (numbered from 1; `row.epoch` is 0-based); with the row's diagnostics (when
 * recorded) the lesion-slice DSC, for data of K ≥ 3 classes the DSC of each foreground class
 * (`DSC per class 1: 0.612, 2: 0.405`; `1 (edema): 0.612` with `classNames`), and the warnings `no foreground predicted` (no
 * validation image has predicted foreground) and `saturated (p_fg < 1e-30 everywhere)` (see
 * `isSaturated`).
 */
export function epochLine(prefix: string, epochs: number, row: { epoch: number; trainLoss: number; valDice: number; valHd95: number; lr: number; valPredForeground?: number; valMaxForegroundProb?: number; valLesionDice?: number; perClass?: readonly { readonly class: number; readonly dice: number }[] }, seconds: number, improved: boolean, classNames?: readonly string[]): string {
  const lesion = row.valLesionDice !== undefined && !Number.isNaN(row.valLesionDice) ? ` (lesion slices ${fmt(row.valLesionDice)})` : '';
  const classes = row.perClass && row.perClass.length > 0 ? `  DSC per class ${row.perClass.map((c) => `${classLabel(c.class, classNames)}: ${fmt(c.dice)}`).join(', ')}` : '';
  const warnings = [
    ...(row.valPredForeground === 0 ? ['no foreground predicted'] : []),
    ...(row.valMaxForegroundProb !== undefined && isSaturated({ valMaxForegroundProb: row.valMaxForegroundProb }) ? [`saturated (p_fg < ${SATURATION_THRESHOLD} everywhere)`] : []),
  ].map((w) => `  ${w}`).join('');
  return `${prefix}epoch ${row.epoch + 1}/${epochs}  loss ${fmt(row.trainLoss, 4)}  val DSC ${fmt(row.valDice)}${lesion}${classes}  HD95 ${fmt(row.valHd95, 2)}  lr ${row.lr.toExponential(1)}  ${seconds.toFixed(1)} s${improved ? '  (best)' : ''}${warnings}`;
}

/**
 * The diagnosis lines of a finished run for people (1-based epochs): `collapsed from epoch k …`
 * when the run ends in a trailing run of epochs without predicted foreground, the saturated
 * epochs, and whether the best lesion-slice DSC reached the learning threshold. Empty for a
 * healthy run.
 */
export function diagnosisLines(rows: TrainResult['rows']): string[] {
  const d = diagnose(rows);
  const epochsText = (list: readonly number[]) => (list.length <= 6 ? list.map((e) => e + 1).join(', ') : `${list.slice(0, 5).map((e) => e + 1).join(', ')}, … (${list.length} epochs)`);
  return [
    ...(d.collapsedFrom !== undefined ? [`collapsed from epoch ${d.collapsedFrom + 1}: no foreground predicted on any validation image from then on`] : []),
    ...(d.saturatedEpochs.length > 0 ? [`saturated (p_fg < ${SATURATION_THRESHOLD} on every validation pixel) at epoch ${epochsText(d.saturatedEpochs)}`] : []),
    ...(!d.learns && !Number.isNaN(d.bestLesionDice) ? [`does not learn: best lesion-slice DSC ${fmt(d.bestLesionDice)} < ${LEARNS_THRESHOLD}`] : []),
  ];
}

/**
 * The summary line of one foreground class of the best checkpoint's evaluation (data of K ≥ 3
 * classes; named from `classNames`, by class index, when given): lesion-slice DSC, missed lesion
 * slices, false alarms on slices without the class, and per volume DSC and HD95.
 */
export function classLine(c: SetEvaluation['perClass'][number], classNames?: readonly string[]): string {
  return `class ${classLabel(c.class, classNames)}: lesion-slice DSC ${fmt(c.lesionDice.mean)} over ${c.slices.lesionSlices}, missed ${c.slices.missed}, false alarms ${c.slices.falseAlarms} of ${c.slices.emptySlices}; `
    + `per volume (${c.lesionVolumes} with the class) DSC ${fmt(c.volumeDice.mean)}, HD95 ${fmt(c.volumeHd95.mean, 2)} mm`;
}

/** Runs a validated training in `out` and writes its reports. Shared with `experiment`. */
export async function runTraining(options: {
  readonly config: TrainConfig;
  readonly data: Dataset;
  readonly out: string;
  readonly convention: 'reference' | 'interface';
  /** Compile the step with jit (default true). */
  readonly jit?: boolean;
  readonly resume?: Checkpoint;
  readonly progress: Progress;
  /** Steps done before this run (experiments count across runs). */
  readonly stepOffset?: number;
  readonly label?: string;
}): Promise<TrainResult> {
  const { config, out, progress } = options;
  const td = trainingData(options.data, { convention: options.convention });
  const steps = Math.ceil(td.trainSize / config.batchSize);
  const prefix = options.label ? `${options.label}  ` : '';
  return train(config, td, {
    dir: out,
    jit: options.jit !== false,
    ...(options.resume ? { resume: options.resume } : {}),
    onStep: (p) => progress.update((options.stepOffset ?? 0) + p.epoch * steps + p.stepInEpoch + 1, `${prefix}epoch ${p.epoch + 1}/${p.epochs} loss ${fmt(p.loss, 4)}`),
    onEpoch: (row, info) => progress.log(epochLine(prefix, config.epochs, row, info.seconds, info.improved, options.data.classNames)),
  });
}

/**
 * Evaluates the best parameters of a finished run on the validation slices and writes the
 * reports (with the set-level sections and the run's diagnosis). Returns the set evaluation.
 */
export async function reportRun(result: TrainResult, data: Dataset, out: string, overlays: number, title: string, notes: readonly string[], environment?: RunEnvironment): Promise<SetEvaluation> {
  const predictions = await predictSlices(result.model, result.best.params, result.best.state, data.val, result.config.batchSize);
  const set = evaluateSet(data.val, predictions, data.classes);
  const diagnosis = diagnosisLines(result.rows);
  const d = diagnose(result.rows);
  // epochs as people count them (from 1), like metrics.csv
  const diagnosisJson = { ...d, ...(d.collapsedFrom !== undefined ? { collapsedFrom: d.collapsedFrom + 1 } : {}), saturatedEpochs: d.saturatedEpochs.map((e) => e + 1) };
  await writeEvalResults(out, title, [...notes, `best epoch ${result.best.epoch + 1} of ${result.rows.length} (highest mean validation DSC)`, ...diagnosis], set.summary, set.images,
    { bestEpoch: result.best.epoch + 1, diagnosis: diagnosisJson, ...(environment ? { environment } : {}) }, set, data.classNames);
  await writeCurves(out, [curveOf(result.config.losses.join(' + '), result.rows)], '');
  if (overlays > 0) await writeOverlays(out, 'overlay-', data.val, predictions, overlayChoice(data.val, overlays));
  return set;
}

/** `boundary-seg train`. Returns the exit code. */
export async function trainCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, trainFlags, flagsElsewhere('train'));
  if (flags['help']) {
    io.out(trainHelp());
    return 0;
  }
  let o = (await resolveConfig(flags, trainFlags)) as TrainFlags;
  let out: string;
  let resumeFile: string | undefined;
  let resumeCheckpoint: CheckpointFile | undefined;
  let restart = false;
  if (o.resume !== undefined) {
    const target = await resumeTarget(o.resume);
    if (o.out !== undefined && resolve(o.out) !== resolve(target.dir)) throw new UsageError(`--out ${o.out}: a resumed run continues in its own folder (${target.dir}); leave --out out`);
    out = target.dir;
    resumeFile = target.file;
    restart = target.file === undefined;
    const given = o;
    const stored = (await storedFlags(target.dir)) as TrainFlags;
    // Runs record their convention in run.json; one recorded before that trained on the reference's maps.
    o = { convention: 'reference', gdlWeights: 'reference', ...stored, ...o };
    // The network is the one the run trained (its checkpoint's, else its run.json config's) unless a
    // model flag is given: a run recorded before batch norm was on by default keeps having none.
    const file = target.file;
    if (file !== undefined) resumeCheckpoint = await asData(() => readCheckpointFile(file));
    o = resumeFlags(o, given, resumeCheckpoint?.header.model ?? (await storedModel(target.dir)));
    if (restart) o = { ...o, resume: undefined } as TrainFlags;
  } else {
    out = o.out ?? defaultOut('train');
    await checkOutFolder(out);
  }
  await selectBackend(o.backend);
  const data = await loadData(o);
  checkSliceSize(data);
  let config = buildTrainConfig(o, data);
  let resume: Checkpoint | undefined;
  if (resumeFile && resumeCheckpoint) {
    const file = resumeFile;
    const ckpt = resumeCheckpoint;
    resume = await asData(async () => restoreCheckpoint(ckpt, config.model, await readRunRows(ckpt)));
    warnAbout(resume);
    // A new --epochs must not move the schedule's default floor: keep the run's schedule unless asked.
    const storedSchedule = resume.resume?.config.schedule;
    if (storedSchedule && !['schedule', 'floorAtEpoch', 'weights'].some((k) => k in flags)) config = { ...config, schedule: storedSchedule };
    // Likewise the GDL weights: a run recorded before --gdl-weights existed keeps the reference's.
    if (resume.resume && !('gdlWeights' in flags)) config = { ...config, gdlWeights: resume.resume.config.gdlWeights ?? 'reference' };
    if (!resume.resume) throw new UsageError(`--resume ${file}: a best checkpoint cannot be resumed (use the run folder or its last.ckpt)`);
    const differs = configDifferences(resume.resume.config, config);
    if (differs.length > 0) throw new UsageError(`--resume ${file}: the run was trained with another ${differs.join(', ')} (a resumed run keeps its configuration; only --epochs may change)`);
    if (config.epochs < resume.epoch) throw new UsageError(`--epochs ${config.epochs}: the run in ${out} has already done ${resume.epoch} epochs (ask for ${resume.epoch} or more)`);
    if (!resume.resume.rows) throw new DataError(`--resume ${file}: ${join(dirname(file), 'metrics.csv')} is missing: a last.ckpt resumes with the metrics.csv of its run folder`);
  }

  await createOutFolder(out);
  if (o.resume !== undefined || restart) {
    // What a killed process left: half-written temporary files, and (before the first last.ckpt) the run's early outputs.
    await removeTemporaryFiles(out);
    if (restart) for (const name of RESTART_LEFTOVERS) await rm(join(out, name), { force: true });
  }
  const environment = await runEnvironment();
  const backend = environment.backend;
  const log = (line: string) => io.err(`${line}\n`);
  if (!o.quiet) {
    for (const n of data.notes) log(`data: ${n}`);
    log(`model: ${describeNetwork(config.model)}; losses ${config.losses.join(' + ')} (${config.schedule.name})${describeAugment(config)}; backend ${backend.name}; run folder ${out}`);
    if (resume) log(`resuming after epoch ${resume.epoch} of ${config.epochs}`);
    if (restart) log(`the run was interrupted before its first last.ckpt: starting it again from ${join(out, 'run.json')}`);
  }
  if (!resume && !restart) await writeFileAtomic(join(out, 'run.json'), toJson({ command: 'train', flags: { ...recordedFlags(o), convention: o.convention ?? DEFAULT_CONVENTION, gdlWeights: o.gdlWeights ?? DEFAULT_GDL_WEIGHTS, out }, config, backend: backend.name, environment, data: data.notes, ...(data.split ? { split: data.split } : {}) }));
  const steps = Math.ceil(data.train.length / config.batchSize) * config.epochs;
  const progress = createProgress({ total: steps, quiet: o.quiet, start: resume ? Math.ceil(data.train.length / config.batchSize) * resume.epoch : 0 });
  const t0 = performance.now();
  const result = await runTraining({ config, data, out, convention: o.convention ?? DEFAULT_CONVENTION, jit: o.jit !== false, progress, ...(resume ? { resume } : {}) });
  progress.finish();
  const set = await reportRun(result, data, out, o.overlays ?? 6, `Training run: ${config.losses.join(' + ')}`, data.notes, environment);
  const summary = set.summary;
  const v = set.volumeSummary;
  io.out(`${[
    `trained ${plural(result.rows.length, 'epoch')} in ${formatDuration((performance.now() - t0) / 1000)}; best epoch ${result.best.epoch + 1}`,
    `validation (best checkpoint): DSC ${fmt(summary.dice.mean)} (${fmt(summary.dice.std)}), HD ${fmt(summary.hd.mean, 2)} mm, HD95 ${fmt(summary.hd95.mean, 2)} mm, missed ${summary.missed}, false alarms ${summary.falseAlarms}`,
    `lesion slices: DSC ${fmt(set.slices.lesionDice.mean)} over ${set.slices.lesionSlices}; empty slices: ${set.slices.falseAlarms} of ${set.slices.emptySlices} with a false alarm`,
    `per volume (${v.volumes}): DSC ${fmt(v.dice.mean)} (${fmt(v.dice.std)}), HD95 ${fmt(v.hd95.mean, 2)} mm, lesion recall ${fmt(v.recall.mean)}, precision ${fmt(v.precision.mean)}, F1 ${fmt(v.f1.mean)}`,
    ...(set.perClass.length > 1 ? set.perClass.map((c) => classLine(c, data.classNames)) : []),
    ...diagnosisLines(result.rows),
    `run folder: ${out}`,
  ].join('\n')}\n`);
  dispose(result);
  return 0;
}
