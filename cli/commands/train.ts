/**
 * `boundary-seg train`: trains a U-Net on a dataset folder or the synthetic benchmark and leaves a
 * run folder: `config.json`, `metrics.csv`, `best.ckpt`, `last.ckpt`, learning curves, overlays
 * and the validation results of the best checkpoint.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { dispose } from '../../core/engine.js';
import { getBackend } from '../../core/backend.js';
import { writeFileAtomic } from '../../data/index.js';
import { removeTemporaryFiles } from '../../core/files.js';
import type { Dataset } from '../../data/types.js';
import { loadCheckpoint, type Checkpoint } from '../../models/checkpoint.js';
import { summarizeImages, imageMetrics } from '../../models/evaluate.js';
import { configDifferences, train, type TrainResult } from '../../models/train.js';
import type { TrainConfig } from '../../models/train-config.js';
import { helpText, parseArgs, type FlagValue } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { loadData, trainingData } from '../datasets.js';
import { asData, DataError, UsageError } from '../errors.js';
import { trainFlags } from '../flags.js';
import { predictSlices } from '../inference.js';
import { createProgress, formatDuration, type Progress } from '../progress.js';
import { curveOf, fmt, overlayChoice, toJson, writeCurves, writeEvalResults, writeOverlays } from '../report.js';
import { checkOutFolder, createOutFolder, defaultOut, selectBackend, warnAbout } from '../runtime.js';
import { buildTrainConfig, checkSliceSize, type TrainFlags } from '../train-setup.js';

const SUMMARY = 'train a U-Net with the boundary loss (or other losses) and keep the best checkpoint';
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

/** Files a run killed before its first `last.ckpt` may have left, removed when it starts again. */
const RESTART_LEFTOVERS = ['best.ckpt', 'metrics.csv'];

/** One line per epoch. */
export function epochLine(prefix: string, epochs: number, row: { epoch: number; trainLoss: number; valDice: number; valHd95: number; lr: number }, seconds: number, improved: boolean): string {
  return `${prefix}epoch ${row.epoch + 1}/${epochs}  loss ${fmt(row.trainLoss, 4)}  val DSC ${fmt(row.valDice)}  HD95 ${fmt(row.valHd95, 2)}  lr ${row.lr.toExponential(1)}  ${seconds.toFixed(1)} s${improved ? '  (best)' : ''}`;
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
  const td = trainingData(options.data, options.convention);
  const steps = Math.ceil(td.trainSize / config.batchSize);
  const prefix = options.label ? `${options.label}  ` : '';
  return train(config, td, {
    dir: out,
    jit: options.jit !== false,
    ...(options.resume ? { resume: options.resume } : {}),
    onStep: (p) => progress.update((options.stepOffset ?? 0) + p.epoch * steps + p.stepInEpoch + 1, `${prefix}epoch ${p.epoch + 1}/${p.epochs} loss ${fmt(p.loss, 4)}`),
    onEpoch: (row, info) => progress.log(epochLine(prefix, config.epochs, row, info.seconds, info.improved)),
  });
}

/** Evaluates the best parameters of a finished run on the validation slices and writes the reports. */
export async function reportRun(result: TrainResult, data: Dataset, out: string, overlays: number, title: string, notes: readonly string[]): Promise<ReturnType<typeof summarizeImages>> {
  const predictions = await predictSlices(result.model, result.best.params, result.best.state, data.val, result.config.batchSize);
  const images = data.val.map((s, i) => imageMetrics(s, predictions[i]!, data.classes));
  const summary = summarizeImages(images);
  await writeEvalResults(out, title, [...notes, `best epoch ${result.best.epoch + 1} of ${result.rows.length} (highest mean validation DSC)`], summary, images, { bestEpoch: result.best.epoch });
  await writeCurves(out, [curveOf(result.config.losses.join(' + '), result.rows)], '');
  if (overlays > 0) await writeOverlays(out, 'overlay-', data.val, predictions, overlayChoice(data.val, overlays));
  return summary;
}

/** `boundary-seg train`. Returns the exit code. */
export async function trainCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, trainFlags);
  if (flags['help']) {
    io.out(trainHelp());
    return 0;
  }
  let o = (await resolveConfig(flags, trainFlags)) as TrainFlags;
  let out: string;
  let resumeFile: string | undefined;
  let restart = false;
  if (o.resume !== undefined) {
    const target = await resumeTarget(o.resume);
    if (o.out !== undefined && resolve(o.out) !== resolve(target.dir)) throw new UsageError(`--out ${o.out}: a resumed run continues in its own folder (${target.dir}); leave --out out`);
    out = target.dir;
    resumeFile = target.file;
    restart = target.file === undefined;
    const stored = (await storedFlags(target.dir)) as TrainFlags;
    o = { ...stored, ...o };
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
  if (resumeFile) {
    const file = resumeFile;
    resume = await asData(() => loadCheckpoint(file, config.model));
    warnAbout(resume);
    // A new --epochs must not move the schedule's default floor: keep the run's schedule unless asked.
    const storedSchedule = resume.resume?.config.schedule;
    if (storedSchedule && !['schedule', 'floorAtEpoch', 'weights'].some((k) => k in flags)) config = { ...config, schedule: storedSchedule };
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
  const backend = await getBackend().describe();
  const log = (line: string) => io.err(`${line}\n`);
  if (!o.quiet) {
    for (const n of data.notes) log(`data: ${n}`);
    log(`model: U-Net base ${config.model.base}, depth ${config.model.depth}${config.model.batchNorm ? ', batch norm' : ''}; losses ${config.losses.join(' + ')} (${config.schedule.name}); backend ${backend.name}; run folder ${out}`);
    if (resume) log(`resuming after epoch ${resume.epoch} of ${config.epochs}`);
    if (restart) log(`the run was interrupted before its first last.ckpt: starting it again from ${join(out, 'run.json')}`);
  }
  if (!resume && !restart) await writeFileAtomic(join(out, 'run.json'), toJson({ command: 'train', flags: { ...o, out }, config, backend: backend.name, data: data.notes }));
  const steps = Math.ceil(data.train.length / config.batchSize) * config.epochs;
  const progress = createProgress({ total: steps, quiet: o.quiet, start: resume ? Math.ceil(data.train.length / config.batchSize) * resume.epoch : 0 });
  const t0 = performance.now();
  const result = await runTraining({ config, data, out, convention: o.convention ?? 'reference', jit: o.jit !== false, progress, ...(resume ? { resume } : {}) });
  progress.finish();
  const summary = await reportRun(result, data, out, o.overlays ?? 6, `Training run: ${config.losses.join(' + ')}`, data.notes);
  io.out(`${[
    `trained ${result.rows.length} epochs in ${formatDuration((performance.now() - t0) / 1000)}; best epoch ${result.best.epoch + 1}`,
    `validation (best checkpoint): DSC ${fmt(summary.dice.mean)} (${fmt(summary.dice.std)}), HD ${fmt(summary.hd.mean, 2)} mm, HD95 ${fmt(summary.hd95.mean, 2)} mm, missed ${summary.missed}, false alarms ${summary.falseAlarms}`,
    `run folder: ${out}`,
  ].join('\n')}\n`);
  dispose(result);
  return 0;
}
