/**
 * `boundary-seg predict`: segments images with a checkpoint and writes the labels in the input's
 * format: PNG class indices (8-bit gray) for PNG slices, NIfTI (uint8, the input's header and
 * affine) for NIfTI volumes. In a folder, `case_0000.ext`, `case_0001.ext`, … are the channels of
 * one case (grouped as the dataset loaders group them: `groupImageCases`), written as `case.ext`;
 * other files are one case each, written under their own name.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { dispose } from '../../core/engine.js';
import { encodePng, groupImageCases, listImageFiles, loadImageFile, stackPlanes, writeFileAtomic, writeNifti, type ImageCase, type LoadedImage } from '../../data/index.js';
import { stemOf } from '../../data/image-files.js';
import { loadCheckpoint } from '../../models/checkpoint.js';
import { modelFor } from '../../models/networks.js';
import { helpText, parseArgs } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { asData, DataError, UsageError } from '../errors.js';
import { predictFlags, flagsElsewhere } from '../flags.js';
import { predictSlices } from '../inference.js';
import { MAX_SLICE_PIXELS } from '../limits.js';
import { checkPredictionFits } from '../train-setup.js';
import { createProgress } from '../progress.js';
import { checkOutFolder, createOutFolder, defaultOut, selectBackend, warnAbout } from '../runtime.js';

const SUMMARY = 'segment images with a checkpoint; labels come out in the input\'s format';
const USAGE = 'predict --checkpoint FILE --input FILE|DIR [--out DIR] [flags]';

/** `predict --help`. */
export const predictHelp = (): string => helpText('predict', SUMMARY, USAGE, predictFlags);

interface PredictFlags {
  readonly checkpoint?: string;
  readonly input?: string;
  readonly axis?: 0 | 1 | 2;
  readonly batchSize?: number;
  readonly out?: string;
  readonly backend?: string;
  readonly quiet?: boolean;
}

/**
 * The output file name of a case: its id and its (first) file's extension, `.nii` / `.nii.gz` /
 * `.png` kept: `case_0000.nii.gz` (+ `case_0001.nii.gz`) → `case.nii.gz`, `scan.png` → `scan.png`.
 */
function outputName(c: ImageCase): string {
  const first = basename(c.files[0]!);
  return `${c.id}${first.slice(stemOf(first).length)}`;
}

/** `boundary-seg predict`. Returns the exit code. */
export async function predictCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, predictFlags, flagsElsewhere('predict'));
  if (flags['help']) {
    io.out(predictHelp());
    return 0;
  }
  const o = (await resolveConfig(flags, predictFlags)) as PredictFlags;
  if (o.checkpoint === undefined) throw new UsageError('--checkpoint FILE is required');
  if (o.input === undefined) throw new UsageError('--input FILE|DIR is required');
  const out = o.out ?? defaultOut('predict');
  await checkOutFolder(out);
  await selectBackend(o.backend);
  const file = o.checkpoint;
  const ckpt = await asData(() => loadCheckpoint(file));
  warnAbout(ckpt);
  const input = o.input;
  const st = await stat(input).catch(() => undefined);
  if (!st) throw new DataError(`--input ${input}: no such file or folder`);
  const files = st.isDirectory() ? await asData(() => listImageFiles(input)) : [input];
  // case_0000, case_0001, … of a folder are the channels of one case, as the dataset loaders group them
  const cases = await asData(() => groupImageCases(files));
  const loaded: Array<{ file: string; image: LoadedImage }> = [];
  for (const c of cases) {
    const f = c.files[0]!;
    const what = c.files.length > 1 || c.id !== stemOf(f) ? `case ${c.id} (${c.files.map((g) => basename(g)).join(', ')} in ${dirname(f)})` : f;
    const image = await asData(() => loadImageFile(c.files, { axis: o.axis ?? 0 }));
    const channels = image.slices[0]?.channels;
    const inChannels = ckpt.model.inChannels;
    if (channels !== inChannels) {
      const count = c.files.length > 1 ? `its ${c.files.length} modality files give ${channels} channel(s)` : `has ${channels} channel(s)`;
      const fewer = channels !== undefined && channels < inChannels && c.files.length === 1;
      const hint = !fewer ? '' : st.isDirectory()
        ? `: the channels of a case are its files ${c.id}_0000…, ${c.id}_0001…, one per modality`
        : `: pass the folder holding the case's modality files (${c.id}_0000…, ${c.id}_0001…), e.g. --input ${dirname(f)}`;
      throw new DataError(`${what}: ${count} but the network (${file}) takes ${inChannels}${hint}`);
    }
    const big = image.slices.find((sl) => sl.height * sl.width > MAX_SLICE_PIXELS);
    if (big) throw new DataError(`${what}: slices of ${big.height}×${big.width} pixels are larger than the network takes (at most ${MAX_SLICE_PIXELS} pixels, 1024×1024): downsample the image or cut it into tiles first`);
    const first = image.slices[0];
    if (first) checkPredictionFits(ckpt.model, first.height, first.width, f);
    loaded.push({ file: f, image });
  }
  const names = cases.map(outputName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new DataError(`--input ${input}: two inputs would both write ${dup}`);

  await createOutFolder(out);
  const model = modelFor(ckpt.model);
  const total = loaded.reduce((n, l) => n + l.image.slices.length, 0);
  const progress = createProgress({ total, unit: 'slice', quiet: o.quiet });
  let done = 0;
  for (const [k, { file: f, image }] of loaded.entries()) {
    const labels = await predictSlices(model, ckpt.params, ckpt.state, image.slices, o.batchSize ?? 8, (n) => progress.update(done + n, f));
    done += image.slices.length;
    const target = join(out, names[k]!);
    if (image.format === 'png') {
      const s = image.slices[0]!;
      await writeFileAtomic(target, encodePng({ width: s.width, height: s.height, channels: 1, bitDepth: 8, data: labels[0]! }));
    } else {
      const v = image.volume!;
      const volume = stackPlanes(labels, v.shape, image.axis);
      await writeFileAtomic(target, writeNifti({ data: volume, shape: v.shape, spacing: v.spacing, header: v.header, datatype: 'uint8' }, names[k]!.toLowerCase().endsWith('.gz')));
    }
  }
  progress.finish();
  io.out(`wrote ${loaded.length} label file(s) to ${out}\n`);
  dispose(ckpt);
  return 0;
}
