/**
 * One image or label file (PNG slice or NIfTI volume) read into a common `[z, y, x]` grid: what the
 * folder loader and the single-file loaders build on. A PNG is a grid of one plane, `[1, H, W]`,
 * spacing 1.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../core/errors.js';
import { formatPosition } from './labels.js';
import { readNifti, type NiftiVolume } from './nifti.js';
import { decodePng, type RasterImage } from './png.js';

/** The two file formats. */
export type FileFormat = 'png' | 'nifti';

/** An image file as channels of one `[z, y, x]` grid, values as stored (not normalised). */
export interface ImageGrid {
  readonly file: string;
  readonly format: FileFormat;
  readonly shape: [number, number, number];
  readonly spacing: [number, number, number];
  /** One `[z, y, x]` array per channel: 1 (gray) or 3 (a PNG whose R, G, B differ somewhere). */
  readonly channels: Float32Array[];
  /** The NIfTI volume, for its header. */
  readonly volume?: NiftiVolume;
}

/** A label file: stored values (not yet class indices) of one `[z, y, x]` grid. */
export interface LabelGrid {
  readonly file: string;
  readonly format: FileFormat;
  readonly shape: [number, number, number];
  readonly spacing: [number, number, number];
  readonly values: ArrayLike<number>;
  readonly volume?: NiftiVolume;
}

/** The format of a file name by its extension (`.png`, `.nii`, `.nii.gz`, any case), if any. */
export function fileFormatOf(name: string): FileFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.png')) return 'png';
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return 'nifti';
  return undefined;
}

/** A file name without its directory and its image extension: `case01.nii.gz` → `case01`. */
export function stemOf(name: string): string {
  return basename(name).replace(/\.(png|nii|nii\.gz)$/i, '');
}

async function readBytes(op: string, path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a file' : `cannot read (${code ?? String(error)})`;
    throw new InputError(op, path, why);
  }
}

function requireFormat(op: string, path: string): FileFormat {
  const format = fileFormatOf(path);
  if (format === undefined) throw new InputError(op, path, 'unknown file type: expected .png, .nii or .nii.gz');
  return format;
}

/** Plane `c` of an interleaved raster, as floats. */
function rasterChannel(image: RasterImage, c: number): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = image.data[p * image.channels + c]!;
  return out;
}

/** Whether the R, G, B planes of a colour raster differ anywhere; -1 if not, else the first pixel. */
function firstColourPixel(image: RasterImage): number {
  if (image.channels < 3) return -1;
  const { data, channels } = image;
  for (let p = 0; p < image.width * image.height; p++) {
    const r = data[p * channels];
    if (data[p * channels + 1] !== r || data[p * channels + 2] !== r) return p;
  }
  return -1;
}

function checkFinite(op: string, path: string, volume: NiftiVolume): void {
  let count = 0;
  let first = -1;
  volume.data.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      count++;
      if (first < 0) first = i;
    }
  });
  if (count > 0) throw new InputError(op, path, `${count} non-finite voxel values (NaN or ±Infinity), the first at ${formatPosition(first, volume.shape)}`);
}

/**
 * Reads an image file. PNG: gray (alpha dropped) gives one channel; RGB(A) gives three channels when
 * R, G and B differ somewhere, else one (a gray picture saved as RGB). NIfTI: one channel; non-finite
 * voxels are refused.
 *
 * @throws InputError naming the file: unreadable, unknown extension, corrupt or truncated content.
 */
export async function readImageFile(op: string, path: string): Promise<ImageGrid> {
  const format = requireFormat(op, path);
  const bytes = await readBytes(op, path);
  if (format === 'nifti') {
    const volume = readNifti(bytes, path);
    checkFinite(op, path, volume);
    return { file: path, format, shape: volume.shape, spacing: volume.spacing, channels: [volume.data], volume };
  }
  const image = decodePng(bytes, path);
  const colour = firstColourPixel(image) >= 0;
  const channels = colour ? [0, 1, 2].map((c) => rasterChannel(image, c)) : [rasterChannel(image, 0)];
  return { file: path, format, shape: [1, image.height, image.width], spacing: [1, 1, 1], channels };
}

/**
 * Reads a label file. PNG: gray (alpha dropped), palette indices as they are, or RGB(A) whose R, G
 * and B agree everywhere; 16-bit values are kept for the range check. NIfTI: the scaled voxel values.
 *
 * @throws InputError naming the file: unreadable, unknown extension, corrupt or truncated content,
 *   a colour label image.
 */
export async function readLabelFile(op: string, path: string): Promise<LabelGrid> {
  const format = requireFormat(op, path);
  const bytes = await readBytes(op, path);
  if (format === 'nifti') {
    const volume = readNifti(bytes, path);
    return { file: path, format, shape: volume.shape, spacing: volume.spacing, values: volume.data, volume };
  }
  const image = decodePng(bytes, path, { keepPaletteIndices: true });
  const colour = firstColourPixel(image);
  if (colour >= 0) {
    const at = formatPosition(colour, [image.height, image.width]);
    throw new InputError(op, path, `label image is in colour (R, G, B differ at ${at}): expected grayscale class values`);
  }
  const values = image.channels === 1 ? image.data : rasterChannel(image, 0);
  return { file: path, format, shape: [1, image.height, image.width], spacing: [1, 1, 1], values };
}

/**
 * Converts gray ↔ colour channels: 3 → 1 by luminance (0.299 R + 0.587 G + 0.114 B), 1 → 3 by
 * copying.
 */
export function withChannels(channels: Float32Array[], count: 1 | 3): Float32Array[] {
  if (channels.length === count) return channels;
  if (count === 3) return [channels[0]!, channels[0]!, channels[0]!];
  const [r, g, b] = channels as [Float32Array, Float32Array, Float32Array];
  return [r.map((v, i) => 0.299 * v + 0.587 * g[i]! + 0.114 * b[i]!)];
}
