/**
 * `boundary-seg distmap`: the signed distance maps of a label file, one float32 `.nii.gz` per
 * class (the NIfTI input's header and affine kept) and a PNG preview of each (the middle slice of
 * a volume, upscaled to about 256 px when smaller, with a title and a colour bar; see
 * `mapPreviewPng`). A class absent from the file, or filling all of it, has no boundary and a map
 * of zeros: its preview says so, and a note on stderr names the class.
 */
import { basename, join } from 'node:path';
import { loadLabels, writeFileAtomic, writeNifti } from '../../data/index.js';
import { signedDistanceMaps } from '../../losses/distance.js';
import { helpText, parseArgs } from '../args.js';
import { io } from '../io.js';
import { resolveConfig } from '../config.js';
import { asData, UsageError } from '../errors.js';
import { distmapFlags, flagsElsewhere } from '../flags.js';
import { mapPreviewPng } from '../render/overlay.js';
import { safeName } from '../report.js';
import { checkOutFolder, createOutFolder, defaultOut } from '../runtime.js';

const SUMMARY = 'signed distance maps of a label file, per class, as float32 NIfTI and PNG previews';
const USAGE = 'distmap --input LABELS [--out DIR] [--spacing a,b(,c)] [--convention reference|interface] [--classes K]';

/** `distmap --help`. */
export const distmapHelp = (): string => helpText('distmap', SUMMARY, USAGE, distmapFlags);

interface DistmapFlags {
  readonly input?: string;
  readonly spacing?: readonly number[];
  readonly convention?: 'reference' | 'interface';
  readonly classes?: number;
  readonly labelFormat?: 'indices' | 'binary255' | 'auto';
  readonly truncate?: boolean;
  readonly out?: string;
}

/** The file name without `.png`, `.nii` or `.nii.gz`. */
function stem(file: string): string {
  return basename(file).replace(/\.(png|nii\.gz|nii)$/i, '');
}

/** `boundary-seg distmap`. Returns the exit code. */
export async function distmapCommand(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv, distmapFlags, flagsElsewhere('distmap'));
  if (flags['help']) {
    io.out(distmapHelp());
    return 0;
  }
  const o = (await resolveConfig(flags, distmapFlags)) as DistmapFlags;
  if (o.input === undefined) throw new UsageError('--input LABELS is required');
  const out = o.out ?? defaultOut('distmap');
  await checkOutFolder(out);
  const input = o.input;
  const labels = await asData(() => loadLabels(input, { labelFormat: o.labelFormat ?? 'auto', ...(o.classes !== undefined ? { classes: o.classes } : {}) }));
  const rank = labels.shape.length;
  if (o.spacing && o.spacing.length !== rank) throw new UsageError(`--spacing: ${input} has ${rank} axes (${labels.shape.join('×')}), got ${o.spacing.length} values`);
  const spacing = o.spacing ? [...o.spacing] : labels.spacing;
  let largest = 0;
  for (const v of labels.labels) if (v > largest) largest = v;
  const classes = o.classes ?? Math.max(2, largest + 1);
  const maps = signedDistanceMaps({ data: labels.labels, shape: labels.shape }, { classes, spacing, batched: false, convention: o.convention ?? 'reference', truncate: o.truncate ?? false });

  await createOutFolder(out);
  const [z, h, w] = rank === 2 ? [1, labels.shape[0]!, labels.shape[1]!] : [labels.shape[0]!, labels.shape[1]!, labels.shape[2]!];
  const volumeSpacing: [number, number, number] = rank === 2 ? [1, spacing[0]!, spacing[1]!] : [spacing[0]!, spacing[1]!, spacing[2]!];
  const plane = h * w;
  const middle = Math.floor(z / 2);
  const name = safeName(stem(input));
  const convention = o.convention ?? 'reference';
  // A PNG's spacing is 1 pixel unless --spacing gives one; NIfTI pixdim (and --spacing) are taken as mm.
  const units = labels.format === 'png' && !o.spacing ? 'voxels' : 'mm';
  const scale = Math.min(64, Math.max(1, Math.round(256 / Math.max(h, w))));
  const counts = new Array<number>(classes).fill(0);
  for (const v of labels.labels) counts[v]!++;
  const whole = rank === 2 ? 'image' : 'volume';
  const written: string[] = [];
  for (let k = 0; k < classes; k++) {
    const map = maps.data.subarray(k * z * plane, (k + 1) * z * plane);
    const nii = `${name}_class${k}.nii.gz`;
    await writeFileAtomic(join(out, nii), writeNifti({ data: Float32Array.from(map), shape: [z, h, w], spacing: volumeSpacing, ...(labels.header ? { header: labels.header } : {}), datatype: 'float32' }, true));
    const png = `${name}_class${k}.png`;
    const mask = counts[k] === 0 ? 'empty mask' : counts[k] === labels.labels.length ? `mask fills the ${whole}` : undefined;
    const zeroNote = mask !== undefined ? `class ${k}: ${mask}, no boundary: φ = 0 everywhere` : `class ${k}: φ = 0 everywhere${rank === 3 ? ` on slice z = ${middle}` : ''}`;
    const title = `class ${k}: φ in ${units}, ${convention} convention${rank === 3 ? `, slice z = ${middle}` : ''}`;
    await writeFileAtomic(join(out, png), mapPreviewPng(Float32Array.from(map.subarray(middle * plane, (middle + 1) * plane)), h, w, { scale, title, units, zeroNote }));
    written.push(nii, png);
    if (mask !== undefined) io.err(`boundary-seg: note: class ${k} ${counts[k] === 0 ? `is absent from ${input}` : `fills all of ${input}`} (no boundary): its map ${nii} is 0 everywhere\n`);
  }
  io.out(`${classes} signed distance maps of ${input} (${labels.shape.join('×')}, spacing ${spacing.map((v) => Number(v.toPrecision(6))).join(',')}, ${convention} convention) in ${out}: ${written.join(', ')}\n`);
  return 0;
}
