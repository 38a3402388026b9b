/**
 * `boundary-seg experiment`: the paper's comparison on one dataset — GDL alone, GDL + boundary loss
 * (under the paper's rebalance and the reference code's steal schedule), the boundary loss alone —
 * each with several training seeds. Per setting: mean (std) over seeds of the best checkpoint's
 * validation metrics (lesion-slice DSC, false alarms on empty slices, per-volume 3-D DSC and HD95,
 * lesion-wise F1), the training diagnostics (collapsed runs), and for each boundary setting a paired
 * comparison against GDL over seeds × volumes (bootstrap 95 % confidence interval of the mean
 * difference, Wilcoxon signed-rank p); learning curves (Fig. 3), overlays (Fig. 1/4) and the results
 * tables. `npm start` runs it on the synthetic benchmark.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeTemporaryFiles } from '../../core/files.js';
import { dispose } from '../../core/engine.js';
import { writeFileAtomic } from '../../data/index.js';
import { loadCheckpoint, type Checkpoint } from '../../models/checkpoint.js';
import { diagnose } from '../../models/diagnostics.js';
import { evaluateSet, type SetEvaluation } from '../../models/evaluate.js';
import type { EpochRow } from '../../models/metrics-log.js';
import { summarize, type Summary } from '../../metrics/summarize.js';
import { pairedBootstrap, wilcoxonSignedRank } from '../../metrics/stats.js';
import { helpText, parseArgs, type FlagValue } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { loadData, type LoadedDataset } from '../datasets.js';
import { asData, DataError, UsageError } from '../errors.js';
import { experimentFlags, flagsElsewhere } from '../flags.js';
import { predictSlices } from '../inference.js';
import { createProgress, formatDuration } from '../progress.js';
import { classLabel, fmt, markdownTable, meanStd, overlayChoice, plural, toJson, writeCurves, writeOverlays, type CurveSeries } from '../report.js';
import { checkOutFolder, createOutFolder, defaultOut, runEnvironment, selectBackend, warnAbout } from '../runtime.js';
import { parseSettings, protocols, type Protocol, type Setting } from '../settings.js';
import { buildTrainConfig, checkSliceSize, DEFAULT_CONVENTION, DEFAULT_GDL_WEIGHTS, describeAugment, recordedFlags, resumeFlags, type TrainFlags } from '../train-setup.js';
import { describeNetwork } from '../../models/networks.js';
import { runTraining } from './train.js';

export { parseSetting, parseSettings, type Setting } from '../settings.js';

const SUMMARY = 'compare GDL, GDL + boundary loss (two schedules) and boundary loss alone over several seeds, with paired statistics';
const USAGE = 'experiment (--synthetic | --data DIR) [--protocol quick|reference] [--settings gdl,gdl+boundary:steal,…] [--seeds 3] [--epochs N] [--out DIR] [flags]';

/** `experiment --help`. */
export const experimentHelp = (): string => helpText('experiment', SUMMARY, USAGE, experimentFlags);

interface ExperimentFlags extends TrainFlags {
  readonly seeds?: number;
  readonly settings?: readonly string[];
  readonly protocol?: Protocol['name'];
}

/** One run's outcome: the best checkpoint's validation metrics, its diagnostics and its curve. */
export interface RunOutcome {
  readonly seed: number;
  /** 1-based epoch of the best checkpoint (highest mean validation DSC per slice). */
  readonly bestEpoch: number;
  /** DSC over validation slices with ground-truth foreground. */
  readonly lesionDice: number;
  /** DSC per slice over all validation slices (empty/empty = 1). */
  readonly sliceDice: number;
  /** Lesion slices with nothing predicted; empty slices with something predicted, and their share. */
  readonly missed: number;
  readonly falseAlarms: number;
  readonly falseAlarmRate: number;
  /** Mean over validation volumes of 3-D DSC, HD95 (mm) and lesion-wise recall, precision, F1. */
  readonly volumeDice: number;
  readonly volumeHd95: number;
  readonly lesionRecall: number;
  readonly lesionPrecision: number;
  readonly lesionF1: number;
  /** Per validation volume, for the paired comparisons. */
  readonly volumes: readonly { readonly id: string; readonly dice: number; readonly hd95: number; readonly f1: number }[];
  /**
   * Per foreground class (one entry for binary tasks): lesion-slice DSC, mean volume DSC and HD95,
   * and the counts: the class's lesion slices, the missed ones, false alarms on the slices without
   * the class, and the volumes with the class.
   */
  readonly perClass: readonly {
    readonly class: number; readonly lesionDice: number; readonly volumeDice: number; readonly volumeHd95: number;
    readonly lesionSlices: number; readonly missed: number; readonly falseAlarms: number; readonly lesionVolumes: number;
  }[];
  /** 1-based epoch from which the run predicted no foreground on any validation image to the end. */
  readonly collapsedFrom?: number;
  /** Epochs (1-based) at which every validation pixel had a foreground probability below 1e-30. */
  readonly saturatedEpochs: readonly number[];
  /** The run's best lesion-slice DSC over its epochs reached 0.3. */
  readonly learns: boolean;
  /** Sample std of the validation lesion-slice DSC over the last quarter of epochs (at least 2). */
  readonly lastQuarterStd: number;
  readonly rows: readonly { readonly epoch: number; readonly valDice: number; readonly valLesionDice: number; readonly valHd95: number }[];
}

/** Mean (std) over seeds of each outcome, and the diagnostics' counts. */
export interface SettingSummary {
  readonly setting: string;
  readonly label: string;
  readonly seeds: number;
  readonly lesionDice: Summary;
  readonly sliceDice: Summary;
  readonly falseAlarmRate: Summary;
  readonly volumeDice: Summary;
  readonly volumeHd95: Summary;
  readonly lesionF1: Summary;
  readonly lastQuarterStd: Summary;
  /** Runs that collapsed, and runs that learn. */
  readonly collapsed: number;
  readonly learning: number;
}

/** Summarises a setting's runs (NaN and infinities never enter a mean). */
export function summarizeSetting(setting: Setting, runs: readonly RunOutcome[]): SettingSummary {
  const s = (pick: (r: RunOutcome) => number) => summarize(runs.map(pick));
  return {
    setting: setting.key, label: setting.label, seeds: runs.length,
    lesionDice: s((r) => r.lesionDice), sliceDice: s((r) => r.sliceDice), falseAlarmRate: s((r) => r.falseAlarmRate),
    volumeDice: s((r) => r.volumeDice), volumeHd95: s((r) => r.volumeHd95), lesionF1: s((r) => r.lesionF1),
    lastQuarterStd: s((r) => r.lastQuarterStd),
    collapsed: runs.filter((r) => r.collapsedFrom !== undefined).length,
    learning: runs.filter((r) => r.learns).length,
  };
}

/** The results table (Markdown). */
export function experimentTable(rows: readonly SettingSummary[]): string {
  return markdownTable(
    ['setting', 'lesion-slice DSC', 'volume DSC', 'volume HD95 (mm)', 'lesion F1', 'false alarms (empty slices)', 'DSC per slice', 'DSC std, last quarter', 'collapsed', 'learn'],
    rows.map((r) => {
      // mean (std), and how many seeds gave a finite value when some did not (e.g. HD95 of an empty prediction).
      const cell = (s: Summary, digits: number, scale = 1) => `${meanStd({ mean: s.mean * scale, std: s.std * scale }, digits)}${s.count < r.seeds ? ` [${s.count}/${r.seeds} seeds]` : ''}`;
      return [r.label, cell(r.lesionDice, 3), cell(r.volumeDice, 3), cell(r.volumeHd95, 2), cell(r.lesionF1, 3), `${cell(r.falseAlarmRate, 1, 100)} %`, cell(r.sliceDice, 3), cell(r.lastQuarterStd, 4),
        `${r.collapsed}/${r.seeds}`, `${r.learning}/${r.seeds}`];
    }),
  );
}

/**
 * Per-class table (multi-class data): per setting and foreground class, mean (std) over seeds of
 * the lesion-slice DSC, volume DSC and HD95, missed lesion slices and false alarms (slices without
 * the class with some of it predicted), beside the class's lesion slices and volumes (properties
 * of the data, the same for every seed). Classes are named from `classNames` (by class index) when
 * given.
 */
export function perClassTable(settings: readonly Setting[], outcomes: readonly (readonly RunOutcome[])[], classNames?: readonly string[]): string {
  const rows: string[][] = [];
  settings.forEach((setting, i) => {
    const runs = outcomes[i]!;
    for (const c of runs[0]?.perClass ?? []) {
      const pick = (f: (x: RunOutcome['perClass'][number]) => number) => summarize(runs.map((r) => f(r.perClass.find((p) => p.class === c.class)!)));
      rows.push([setting.label, classLabel(c.class, classNames), String(c.lesionSlices), String(c.lesionVolumes), meanStd(pick((x) => x.lesionDice)), meanStd(pick((x) => x.volumeDice)), meanStd(pick((x) => x.volumeHd95), 2),
        meanStd(pick((x) => x.missed), 1), meanStd(pick((x) => x.falseAlarms), 1)]);
    }
  });
  return markdownTable(['setting', 'class', 'lesion slices', 'volumes with the class', 'lesion-slice DSC', 'volume DSC', 'volume HD95 (mm)', 'missed lesion slices', 'false alarms (slices without the class)'], rows);
}

/** A paired comparison of one setting against the baseline. */
export interface Comparison {
  readonly setting: string;
  readonly label: string;
  readonly baseline: string;
  /** Over (seed, volume) pairs with both values finite. */
  readonly dice: PairedResult;
  readonly hd95: PairedResult;
}

/** The paired statistics of one metric. */
export interface PairedResult {
  readonly pairs: number;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  readonly p: number;
}

function paired(differences: number[], seed: number): PairedResult {
  const b = pairedBootstrap(differences, { seed });
  const w = wilcoxonSignedRank(differences.filter((d) => Number.isFinite(d)));
  return { pairs: b.n, mean: b.mean, low: b.low, high: b.high, p: w.p };
}

/**
 * The paired comparison of `runs` against the baseline's `base`: differences setting − baseline of
 * per-volume DSC and HD95, paired by seed and volume (pairs where either value is not finite are left
 * out, and counted).
 */
export function compareRuns(setting: Setting, baseline: Setting, runs: readonly RunOutcome[], base: readonly RunOutcome[]): Comparison {
  const dice: number[] = [];
  const hd95: number[] = [];
  for (const r of runs) {
    const b = base.find((x) => x.seed === r.seed);
    if (!b) continue;
    for (const v of r.volumes) {
      const w = b.volumes.find((x) => x.id === v.id);
      if (!w) continue;
      if (Number.isFinite(v.dice) && Number.isFinite(w.dice)) dice.push(v.dice - w.dice);
      if (Number.isFinite(v.hd95) && Number.isFinite(w.hd95)) hd95.push(v.hd95 - w.hd95);
    }
  }
  return { setting: setting.key, label: setting.label, baseline: baseline.label, dice: paired(dice, 0), hd95: paired(hd95, 1) };
}

/** The comparisons table (Markdown). */
export function comparisonTable(rows: readonly Comparison[]): string {
  const p = (x: number) => (Number.isFinite(x) ? (x < 0.001 ? '< 0.001' : x.toFixed(3)) : 'n/a');
  const ci = (r: PairedResult, digits: number) => `${fmt(r.mean, digits)} [${fmt(r.low, digits)}, ${fmt(r.high, digits)}]`;
  return markdownTable(
    ['setting vs baseline', 'ΔDSC per volume [95 % CI]', 'p (Wilcoxon)', 'ΔHD95 mm [95 % CI]', 'p (Wilcoxon)', 'pairs (DSC / HD95)'],
    rows.map((r) => [`${r.label} − ${r.baseline}`, ci(r.dice, 3), p(r.dice.p), ci(r.hd95, 2), p(r.hd95.p), `${r.dice.pairs} / ${r.hd95.pairs}`]),
  );
}

/** Mean over seeds per epoch (a curve per setting). */
function meanCurve(label: string, runs: readonly RunOutcome[]): CurveSeries {
  const epochs = runs[0]?.rows.map((r) => r.epoch) ?? [];
  return {
    label, epochs,
    dice: epochs.map((_, e) => summarize(runs.map((r) => r.rows[e]?.valLesionDice ?? NaN)).mean),
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

/** The flags with the protocol's defaults under them (explicit flags win). */
export function withProtocol(o: ExperimentFlags): ExperimentFlags {
  const protocol = protocols[o.protocol ?? 'quick'];
  const synthetic = o.data === undefined && (o.syntheticSet ?? 'wmh') === 'wmh';
  return { ...(protocol.defaults as Partial<ExperimentFlags>), ...(synthetic ? protocol.syntheticDefaults : {}), ...o, protocol: protocol.name };
}

/** `boundary-seg experiment`. Returns the exit code. */
export async function experimentCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, experimentFlags, flagsElsewhere('experiment'));
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
    // Experiments record their convention; one recorded before that trained on the reference's maps.
    // Experiments record their convention and GDL weights; one recorded before that used the reference's.
    o = { ...resumeFlags({ convention: 'reference', gdlWeights: 'reference', ...((await storedFlags(out)) as ExperimentFlags) }, o), out };
  } else {
    out = o.out ?? defaultOut('experiment');
    await checkOutFolder(out);
  }
  o = withProtocol(o);
  const epochs = o.epochs!;
  const settings = parseSettings(o.settings!, epochs);
  await selectBackend(o.backend);
  const data: LoadedDataset = await loadData({ ...o, synthetic: o.synthetic ?? (o.data === undefined ? true : undefined) });
  checkSliceSize(data);
  const seedCount = o.seeds ?? 3;
  const firstSeed = o.seed ?? 0;
  const seeds = Array.from({ length: seedCount }, (_, i) => firstSeed + i);
  const configs = settings.map((s) => seeds.map((seed) => buildTrainConfig({ ...o, seed }, data, s.losses, s.schedule)));
  const convention = o.convention ?? DEFAULT_CONVENTION;
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
  const environment = await runEnvironment();
  const backend = environment.backend;
  const log = (line: string) => io.err(`${line}\n`);
  const batchSize = configs[0]![0]!.batchSize;
  const stepsPerEpoch = Math.ceil(data.train.length / batchSize);
  const runSteps = stepsPerEpoch * epochs;
  const total = runSteps * settings.length * seeds.length;
  const network = describeNetwork(configs[0]![0]!.model);
  if (!o.quiet) {
    for (const n of data.notes) log(`data: ${n}`);
    log(`experiment (protocol ${o.protocol}): ${settings.map((s) => s.label).join(' | ')}; seeds ${seeds.join(', ')}; ${plural(epochs, 'epoch')} of ${plural(stepsPerEpoch, 'step')} (batch ${batchSize}); ${network}; boundary loss on the ${convention} signed maps${describeAugment(configs[0]![0]!)}; backend ${backend.name}; folder ${out}`);
  }
  if (!resuming) await writeFileAtomic(join(out, 'experiment.json'), toJson({ command: 'experiment', flags: { ...recordedFlags(o), convention, gdlWeights: o.gdlWeights ?? DEFAULT_GDL_WEIGHTS, out }, settings, seeds, backend: backend.name, environment, data: data.notes }));
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
        config, data, out: dir, convention, jit: o.jit !== false, progress, stepOffset: runIndex * runSteps, label: `${setting.label}, seed ${seed}:`, ...(resume ? { resume } : {}),
      });
      runIndex++;
      const predictions = await predictSlices(result.model, result.best.params, result.best.state, data.val, config.batchSize);
      const outcome = runOutcome(seed, result.best.epoch, result.rows, evaluateSet(data.val, predictions, data.classes));
      runs.push(outcome);
      await writeFileAtomic(join(dir, 'outcome.json'), toJson(outcome));
      if (j === 0 && overlaySlices.length > 0) await writeOverlays(overlayDir, `${setting.folder}-`, data.val, predictions, overlaySlices);
      const diagnosis = outcome.collapsedFrom !== undefined ? `; COLLAPSED from epoch ${outcome.collapsedFrom} (no foreground predicted)` : outcome.learns ? '' : '; does not learn (best lesion-slice DSC < 0.3)';
      progress.log(`${setting.label}, seed ${seed}: best epoch ${outcome.bestEpoch}, lesion-slice DSC ${fmt(outcome.lesionDice)}, volume DSC ${fmt(outcome.volumeDice)}, HD95 ${fmt(outcome.volumeHd95, 2)} mm, lesion F1 ${fmt(outcome.lesionF1)}, false alarms ${outcome.falseAlarms}${diagnosis}`);
      dispose(result);
    }
    outcomes.push(runs);
  }
  progress.finish();

  const summaries = settings.map((s, i) => summarizeSetting(s, outcomes[i]!));
  const baselineIndex = settings.findIndex((s) => s.key === 'gdl');
  const comparisons = baselineIndex < 0 ? [] : settings.flatMap((s, i) => (i !== baselineIndex && s.losses.includes('boundary') ? [compareRuns(s, settings[baselineIndex]!, outcomes[i]!, outcomes[baselineIndex]!)] : []));
  await writeCurves(out, settings.map((s, i) => meanCurve(s.label, outcomes[i]!)), ` (mean over ${seeds.length} seed${seeds.length > 1 ? 's' : ''})`, 'lesion-slice DSC');
  const table = experimentTable(summaries);
  const comparisonText = comparisons.length > 0 ? comparisonTable(comparisons) : '';
  const classText = data.classes > 2 ? perClassTable(settings, outcomes, data.classNames) : '';
  const seconds = (performance.now() - t0) / 1000;
  const duration = `${formatDuration(seconds)} (${seconds.toFixed(0)} s)`;
  const notes = [
    ...data.notes,
    `protocol ${o.protocol}: ${plural(epochs, 'epoch')}, batch ${batchSize}, ${network}; boundary loss on the ${convention} signed maps; GDL class weights ${configs[0]![0]!.gdlWeights ?? 'reference'}; seeds ${seeds.join(', ')}; backend ${backend.name}; ${duration}`,
    'Mean (std) over seeds of the best checkpoint\'s validation metrics (best = highest mean DSC per slice): DSC over lesion slices; per validation volume (slices stacked) 3-D DSC, HD95 (mm) and lesion-wise F1 (connected components); the share of lesion-free slices with a false alarm; DSC per slice over all slices (empty/empty = 1); the std of validation lesion-slice DSC over the last quarter of epochs (curve smoothness). NaN and infinities never enter a mean.',
    'collapsed: runs whose argmax predicted no foreground on any validation image from some epoch to the end; learn: runs whose best lesion-slice DSC reached 0.3.',
    ...(comparisons.length > 0 ? ['Paired comparison: differences setting − GDL of per-volume DSC and HD95, paired by seed and volume; mean with a percentile-bootstrap 95 % confidence interval (10 000 resamples) and the two-sided Wilcoxon signed-rank p.'] : []),
  ];
  const md = [
    '# Experiment: boundary loss vs GDL', '', ...notes.map((n) => `- ${n}`), '',
    '## Results', '', table, '',
    ...(classText ? ['## Per class', '', classText, ''] : []),
    ...(comparisonText ? ['## Paired comparison against GDL', '', comparisonText, ''] : []),
    '![validation lesion-slice DSC](curve-dice.svg)', '![validation HD95](curve-hd95.svg)', '',
  ];
  await writeFileAtomic(join(out, 'results.md'), md.join('\n'));
  await writeFileAtomic(join(out, 'results.json'), toJson({ notes, protocol: o.protocol, seeds, epochs, seconds, environment, data: { notes: data.notes, ...(data.stats ? { stats: data.stats } : {}) }, settings: summaries, comparisons, runs: Object.fromEntries(settings.map((s, i) => [s.key, outcomes[i]])) }));
  io.out(`\n${table}\n${comparisonText ? `\n${comparisonText}\n` : ''}${classText ? `\n${classText}\n` : ''}\n${notes[data.notes.length]}\nresults: ${join(out, 'results.md')}\n`);
  return 0;
}

/** A run's outcome from its rows, its best epoch and the evaluation of its best checkpoint. */
export function runOutcome(seed: number, bestEpoch: number, rows: readonly EpochRow[], evaluation: SetEvaluation): RunOutcome {
  const d = diagnose(rows);
  const lesion = rows.map((r) => r.valLesionDice);
  const quarter = lesion.slice(-Math.max(2, Math.ceil(lesion.length / 4)));
  const vs = evaluation.volumeSummary;
  return {
    seed,
    bestEpoch: bestEpoch + 1,
    lesionDice: evaluation.slices.lesionDice.mean,
    sliceDice: evaluation.summary.dice.mean,
    missed: evaluation.slices.missed,
    falseAlarms: evaluation.slices.falseAlarms,
    falseAlarmRate: evaluation.slices.falseAlarmRate,
    volumeDice: vs.dice.mean,
    volumeHd95: vs.hd95.mean,
    lesionRecall: vs.recall.mean,
    lesionPrecision: vs.precision.mean,
    lesionF1: vs.f1.mean,
    volumes: evaluation.volumes.map((v) => ({ id: v.id, dice: v.dice, hd95: v.hd95, f1: v.lesion.f1 })),
    perClass: evaluation.perClass.map((c) => ({
      class: c.class, lesionDice: c.lesionDice.mean, volumeDice: c.volumeDice.mean, volumeHd95: c.volumeHd95.mean,
      lesionSlices: c.slices.lesionSlices, missed: c.slices.missed, falseAlarms: c.slices.falseAlarms, lesionVolumes: c.lesionVolumes,
    })),
    ...(d.collapsedFrom !== undefined ? { collapsedFrom: d.collapsedFrom + 1 } : {}),
    saturatedEpochs: d.saturatedEpochs.map((e) => e + 1),
    learns: d.learns,
    lastQuarterStd: summarize(quarter).std,
    rows: rows.map((r) => ({ epoch: r.epoch + 1, valDice: r.valDice, valLesionDice: r.valLesionDice, valHd95: r.valHd95 })),
  };
}

