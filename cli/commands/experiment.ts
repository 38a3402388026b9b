/**
 * `boundary-seg experiment`: the paper's comparison on one dataset — GDL alone, GDL + boundary
 * loss (rebalance schedule), boundary loss alone — each with several training seeds, then per
 * setting the mean (std) over seeds of the validation metrics of the best checkpoint, learning
 * curves (Fig. 3), overlays (Fig. 1/4) and a results table. `npm start` runs it on the synthetic
 * benchmark.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeTemporaryFiles } from '../../core/files.js';
import { getBackend } from '../../core/backend.js';
import { dispose } from '../../core/engine.js';
import { writeFileAtomic } from '../../data/index.js';
import type { Dataset } from '../../data/types.js';
import { loadCheckpoint, type Checkpoint } from '../../models/checkpoint.js';
import { imageMetrics, summarizeImages } from '../../models/evaluate.js';
import type { LossName, ScheduleSpec } from '../../models/objective.js';
import { summarize, type Summary } from '../../metrics/summarize.js';
import { helpText, parseArgs, type FlagValue } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { loadData } from '../datasets.js';
import { asData, DataError, UsageError } from '../errors.js';
import { experimentFlags } from '../flags.js';
import { predictSlices } from '../inference.js';
import { createProgress, formatDuration } from '../progress.js';
import { fmt, markdownTable, meanStd, overlayChoice, toJson, writeCurves, writeOverlays, type CurveSeries } from '../report.js';
import { checkOutFolder, createOutFolder, defaultOut, selectBackend, warnAbout } from '../runtime.js';
import { buildTrainConfig, checkSliceSize, defaultFloorAtEpoch, type TrainFlags } from '../train-setup.js';
import { runTraining } from './train.js';

const SUMMARY = 'compare GDL, GDL + boundary loss and boundary loss alone over several seeds';
const USAGE = 'experiment (--synthetic | --data DIR) [--epochs 20] [--seeds 3] [--train-slices 150] [--size 64] [--out DIR] [flags]';

/** `experiment --help`. */
export const experimentHelp = (): string => helpText('experiment', SUMMARY, USAGE, experimentFlags);

interface ExperimentFlags extends TrainFlags {
  readonly seeds?: number;
  readonly settings?: readonly SettingKey[];
}

/** The loss settings compared. */
export type SettingKey = 'gdl' | 'gdl+boundary' | 'boundary';

interface Setting {
  readonly key: SettingKey;
  readonly label: string;
  readonly folder: string;
  readonly losses: readonly LossName[];
  readonly schedule: ScheduleSpec;
}

/** The settings, for a run of `epochs` epochs (α reaches its floor by mid-run below 100 epochs). */
export function experimentSettings(epochs: number, floorAtEpoch?: number): Setting[] {
  const floor = floorAtEpoch ?? defaultFloorAtEpoch(epochs);
  return [
    { key: 'gdl', label: 'GDL', folder: 'gdl', losses: ['gdl'], schedule: { name: 'constant' } },
    { key: 'gdl+boundary', label: 'GDL + boundary (rebalance)', folder: 'gdl-boundary', losses: ['gdl', 'boundary'], schedule: { name: 'rebalance', ...(floor !== undefined ? { floorAtEpoch: floor } : {}) } },
    { key: 'boundary', label: 'boundary alone', folder: 'boundary', losses: ['boundary'], schedule: { name: 'constant' } },
  ];
}

/** One run's outcome: the best checkpoint's validation metrics and the curve's last-quarter smoothness. */
export interface RunOutcome {
  readonly seed: number;
  readonly bestEpoch: number;
  readonly dice: number;
  readonly hd: number;
  readonly hd95: number;
  readonly missed: number;
  readonly falseAlarms: number;
  /** Sample std of validation DSC over the last quarter of epochs (at least 2). */
  readonly lastQuarterDiceStd: number;
  readonly rows: readonly { epoch: number; valDice: number; valHd95: number }[];
}

/** Mean (std) over seeds of each outcome. */
export interface SettingSummary {
  readonly setting: SettingKey;
  readonly label: string;
  readonly seeds: number;
  readonly dice: Summary;
  readonly hd: Summary;
  readonly hd95: Summary;
  readonly missed: Summary;
  readonly falseAlarms: Summary;
  readonly lastQuarterDiceStd: Summary;
}

/** Summarises a setting's runs (NaN and infinities never enter a mean). */
export function summarizeSetting(setting: Setting, runs: readonly RunOutcome[]): SettingSummary {
  const s = (pick: (r: RunOutcome) => number) => summarize(runs.map(pick));
  return {
    setting: setting.key, label: setting.label, seeds: runs.length,
    dice: s((r) => r.dice), hd: s((r) => r.hd), hd95: s((r) => r.hd95), missed: s((r) => r.missed), falseAlarms: s((r) => r.falseAlarms),
    lastQuarterDiceStd: s((r) => r.lastQuarterDiceStd),
  };
}

/** The results table (Markdown). */
export function experimentTable(rows: readonly SettingSummary[]): string {
  return markdownTable(
    ['setting', 'DSC', 'HD (mm)', 'HD95 (mm)', 'missed', 'false alarms', 'DSC std, last quarter'],
    rows.map((r) => {
      // mean (std), and how many seeds gave a finite value when some did not (e.g. HD of an empty prediction).
      const cell = (s: Summary, digits: number) => `${meanStd(s, digits)}${s.count < r.seeds ? ` [${s.count}/${r.seeds} seeds]` : ''}`;
      return [r.label, cell(r.dice, 3), cell(r.hd, 2), cell(r.hd95, 2), cell(r.missed, 1), cell(r.falseAlarms, 1), cell(r.lastQuarterDiceStd, 4)];
    }),
  );
}

/** Mean over seeds per epoch (a curve per setting). */
function meanCurve(label: string, runs: readonly RunOutcome[]): CurveSeries {
  const epochs = runs[0]?.rows.map((r) => r.epoch) ?? [];
  return {
    label, epochs,
    dice: epochs.map((_, e) => summarize(runs.map((r) => r.rows[e]?.valDice ?? NaN)).mean),
    hd95: epochs.map((_, e) => summarize(runs.map((r) => r.rows[e]?.valHd95 ?? NaN)).mean),
  };
}

async function storedFlags(dir: string): Promise<Record<string, FlagValue>> {
  try {
    return ((JSON.parse(await readFile(join(dir, 'experiment.json'), 'utf8')) as { flags?: Record<string, FlagValue> }).flags) ?? {};
  } catch {
    throw new UsageError(`--resume ${dir}: not an experiment folder (no readable experiment.json)`);
  }
}

/** `boundary-seg experiment`. Returns the exit code. */
export async function experimentCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, experimentFlags);
  if (flags['help']) {
    io.out(experimentHelp());
    return 0;
  }
  let o = (await resolveConfig(flags, experimentFlags)) as ExperimentFlags;
  let out: string;
  const resuming = o.resume !== undefined;
  if (o.resume !== undefined) {
    const st = await stat(o.resume).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`--resume ${o.resume}: expected an experiment folder`);
    out = o.resume;
    o = { ...((await storedFlags(out)) as ExperimentFlags), ...o, out };
  } else {
    out = o.out ?? defaultOut('experiment');
    await checkOutFolder(out);
  }
  await selectBackend(o.backend);
  const data: Dataset = await loadData({ ...o, synthetic: o.synthetic ?? (o.data === undefined ? true : undefined) });
  checkSliceSize(data);
  const epochs = o.epochs ?? 20;
  const seedCount = o.seeds ?? 3;
  const firstSeed = o.seed ?? 0;
  const chosen = new Set(o.settings ?? ['gdl', 'gdl+boundary', 'boundary']);
  const settings = experimentSettings(epochs, o.floorAtEpoch).filter((s) => chosen.has(s.key));
  const seeds = Array.from({ length: seedCount }, (_, i) => firstSeed + i);
  const configs = settings.map((s) => seeds.map((seed) => buildTrainConfig({ ...o, seed }, data, s.losses, s.schedule)));
  const resumes = new Map<string, Checkpoint>();
  if (resuming) {
    for (const [i, s] of settings.entries()) {
      for (const [j, seed] of seeds.entries()) {
        const file = join(out, s.folder, `seed-${seed}`, 'last.ckpt');
        if (!(await stat(file).catch(() => undefined))) continue;
        const ckpt = await asData(() => loadCheckpoint(file, configs[i]![j]!.model));
        warnAbout(ckpt);
        if (epochs < ckpt.epoch) throw new UsageError(`--epochs ${epochs}: the run in ${dirname(file)} has already done ${ckpt.epoch} epochs (ask for ${ckpt.epoch} or more)`);
        if (ckpt.resume && !ckpt.resume.rows) throw new DataError(`--resume ${out}: ${join(dirname(file), 'metrics.csv')} is missing: a last.ckpt resumes with the metrics.csv of its run folder`);
        resumes.set(file, ckpt);
      }
    }
  }

  await createOutFolder(out);
  if (resuming) await removeTemporaryFiles(out);
  const backend = await getBackend().describe();
  const log = (line: string) => io.err(`${line}\n`);
  const stepsPerEpoch = Math.ceil(data.train.length / (o.batchSize ?? 8));
  const runSteps = stepsPerEpoch * epochs;
  const total = runSteps * settings.length * seeds.length;
  if (!o.quiet) {
    for (const n of data.notes) log(`data: ${n}`);
    log(`experiment: ${settings.map((s) => s.label).join(' | ')}; seeds ${seeds.join(', ')}; ${epochs} epochs of ${stepsPerEpoch} steps (batch ${o.batchSize ?? 8}); U-Net base ${o.base ?? 16}, depth ${o.depth ?? 3}; backend ${backend.name}; folder ${out}`);
  }
  if (!resuming) await writeFileAtomic(join(out, 'experiment.json'), toJson({ command: 'experiment', flags: { ...o, out }, settings, seeds, backend: backend.name, data: data.notes }));
  const progress = createProgress({ total, quiet: o.quiet });
  const overlayDir = join(out, 'overlays');
  await mkdir(overlayDir, { recursive: true });
  const overlaySlices = overlayChoice(data.val, o.overlays ?? 6);
  const t0 = performance.now();
  const outcomes: RunOutcome[][] = [];
  let runIndex = 0;
  for (const [i, setting] of settings.entries()) {
    const runs: RunOutcome[] = [];
    for (const [j, seed] of seeds.entries()) {
      const config = configs[i]![j]!;
      const dir = join(out, setting.folder, `seed-${seed}`);
      await mkdir(dir, { recursive: true });
      const resume = resumes.get(join(dir, 'last.ckpt'));
      if (resuming) {
        // What a killed process left: half-written temporary files, and (before the first last.ckpt) the run's early outputs.
        await removeTemporaryFiles(dir);
        if (!resume) for (const name of ['best.ckpt', 'metrics.csv']) await rm(join(dir, name), { force: true });
      }
      const result = await runTraining({
        config, data, out: dir, convention: o.convention ?? 'reference', jit: o.jit !== false, progress, stepOffset: runIndex * runSteps, label: `${setting.label}, seed ${seed}:`, ...(resume ? { resume } : {}),
      });
      runIndex++;
      const predictions = await predictSlices(result.model, result.best.params, result.best.state, data.val, config.batchSize);
      const summary = summarizeImages(data.val.map((s, k) => imageMetrics(s, predictions[k]!, data.classes)));
      const quarter = result.rows.slice(-Math.max(2, Math.ceil(result.rows.length / 4)));
      const outcome: RunOutcome = {
        seed, bestEpoch: result.best.epoch, dice: summary.dice.mean, hd: summary.hd.mean, hd95: summary.hd95.mean, missed: summary.missed, falseAlarms: summary.falseAlarms,
        lastQuarterDiceStd: summarize(quarter.map((r) => r.valDice)).std,
        rows: result.rows.map((r) => ({ epoch: r.epoch, valDice: r.valDice, valHd95: r.valHd95 })),
      };
      runs.push(outcome);
      await writeFileAtomic(join(dir, 'outcome.json'), toJson(outcome));
      if (j === 0 && overlaySlices.length > 0) await writeOverlays(overlayDir, `${setting.folder}-`, data.val, predictions, overlaySlices);
      progress.log(`${setting.label}, seed ${seed}: best epoch ${result.best.epoch + 1}, DSC ${fmt(outcome.dice)}, HD ${fmt(outcome.hd, 2)} mm, HD95 ${fmt(outcome.hd95, 2)} mm, missed ${outcome.missed}, false alarms ${outcome.falseAlarms}`);
      dispose(result);
    }
    outcomes.push(runs);
  }
  progress.finish();

  const summaries = settings.map((s, i) => summarizeSetting(s, outcomes[i]!));
  await writeCurves(out, settings.map((s, i) => meanCurve(s.label, outcomes[i]!)), ` (mean over ${seeds.length} seed${seeds.length > 1 ? 's' : ''})`);
  const table = experimentTable(summaries);
  const seconds = (performance.now() - t0) / 1000;
  const notes = [
    ...data.notes,
    `${epochs} epochs, batch ${o.batchSize ?? 8}, U-Net base ${o.base ?? 16}, depth ${o.depth ?? 3}; seeds ${seeds.join(', ')}; backend ${backend.name}; ${formatDuration(seconds)}`,
    'Mean (std) over seeds of the best checkpoint\'s validation metrics: DSC per image (empty/empty = 1); HD and HD95 (mm) over images where both masks are non-empty; counts of missed lesion images and false alarms; the std of validation DSC over the last quarter of epochs (curve smoothness). NaN and infinities never enter a mean.',
  ];
  await writeFileAtomic(join(out, 'results.md'), [`# Experiment: boundary loss vs GDL`, '', ...notes.map((n) => `- ${n}`), '', table, '', '![validation DSC](curve-dice.svg)', '![validation HD95](curve-hd95.svg)', ''].join('\n'));
  await writeFileAtomic(join(out, 'results.json'), toJson({ notes, seeds, epochs, settings: summaries, runs: Object.fromEntries(settings.map((s, i) => [s.key, outcomes[i]])) }));
  io.out(`\n${table}\n\n${notes.slice(-2, -1)[0]}\nresults: ${join(out, 'results.md')}\n`);
  return 0;
}
