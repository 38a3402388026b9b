/**
 * `boundary-seg eval`: evaluates a checkpoint on a dataset's slices and writes the metrics table
 * (Markdown and JSON, per image and summarised) and overlays.
 */
import { dispose } from '../../core/engine.js';
import { loadCheckpoint } from '../../models/checkpoint.js';
import { evaluateSet } from '../../models/evaluate.js';
import { modelFor } from '../../models/networks.js';
import { helpText, parseArgs } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { loadData, type DataOptions } from '../datasets.js';
import { asData, DataError, UsageError } from '../errors.js';
import { evalFlags, flagsElsewhere } from '../flags.js';
import { predictSlices } from '../inference.js';
import { checkPredictionFits, checkSliceSize } from '../train-setup.js';
import { createProgress } from '../progress.js';
import { fmt, overlayChoice, writeEvalResults, writeOverlays } from '../report.js';
import { checkOutFolder, createOutFolder, defaultOut, runEnvironment, selectBackend, warnAbout } from '../runtime.js';

const SUMMARY = 'evaluate a checkpoint: DSC, HD, HD95 per image and summarised';
const USAGE = 'eval --checkpoint FILE (--data DIR | --synthetic) [--split val|train|all] [--out DIR] [flags]';

/** `eval --help`. */
export const evalHelp = (): string => helpText('eval', SUMMARY, USAGE, evalFlags);

interface EvalFlags extends DataOptions {
  readonly checkpoint?: string;
  readonly split?: 'val' | 'train' | 'all';
  readonly batchSize?: number;
  readonly overlays?: number;
  readonly out?: string;
  readonly backend?: string;
  readonly quiet?: boolean;
}

/** `boundary-seg eval`. Returns the exit code. */
export async function evalCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, evalFlags, flagsElsewhere('eval'));
  if (flags['help']) {
    io.out(evalHelp());
    return 0;
  }
  const o = (await resolveConfig(flags, evalFlags)) as EvalFlags;
  if (o.checkpoint === undefined) throw new UsageError('--checkpoint FILE is required');
  const out = o.out ?? defaultOut('eval');
  await checkOutFolder(out);
  await selectBackend(o.backend);
  const file = o.checkpoint;
  const ckpt = await asData(() => loadCheckpoint(file));
  warnAbout(ckpt);
  const data = await loadData({ ...o, classes: ckpt.model.classes });
  checkSliceSize(data);
  checkPredictionFits(ckpt.model, data.height, data.width, o.data ?? 'the synthetic data');
  if (data.channels !== ckpt.model.inChannels) throw new DataError(`${file}: the network takes ${ckpt.model.inChannels} channel(s) but the images have ${data.channels}`);
  if (data.classes !== ckpt.model.classes) throw new DataError(`${file}: the network predicts ${ckpt.model.classes} classes but the labels have ${data.classes}`);
  const split = o.split ?? 'val';
  const slices = split === 'val' ? data.val : split === 'train' ? data.train : [...data.train, ...data.val];
  if (slices.length === 0) throw new DataError(`${o.data ?? 'synthetic data'}: no ${split} slices to evaluate`);

  await createOutFolder(out);
  const model = modelFor(ckpt.model);
  const progress = createProgress({ total: slices.length, unit: 'slice', quiet: o.quiet });
  const predictions = await predictSlices(model, ckpt.params, ckpt.state, slices, o.batchSize ?? 8, (done) => progress.update(done, 'predicting'));
  progress.finish();
  const set = evaluateSet(slices, predictions, data.classes);
  const { images, summary } = set;
  const v = set.volumeSummary;
  const notes = [`checkpoint ${file} (${ckpt.kind}, after epoch ${ckpt.epoch})`, `${split} split: ${slices.length} slices`, ...data.notes];
  await writeEvalResults(out, 'Evaluation', notes, summary, images, { checkpoint: file, split, environment: await runEnvironment() }, set, data.classNames);
  if ((o.overlays ?? 6) > 0) await writeOverlays(out, 'overlay-', slices, predictions, overlayChoice(slices, o.overlays ?? 6));
  io.out(`${slices.length} ${split} slices: DSC ${fmt(summary.dice.mean)} (${fmt(summary.dice.std)}), HD ${fmt(summary.hd.mean, 2)} mm, HD95 ${fmt(summary.hd95.mean, 2)} mm, missed ${summary.missed}, false alarms ${summary.falseAlarms}\n`
    + `lesion slices: DSC ${fmt(set.slices.lesionDice.mean)} over ${set.slices.lesionSlices}; per volume (${v.volumes}): DSC ${fmt(v.dice.mean)}, HD95 ${fmt(v.hd95.mean, 2)} mm, lesion F1 ${fmt(v.f1.mean)}\nresults: ${out}/results.md\n`);
  dispose(ckpt);
  return 0;
}
