/**
 * Fixtures for the data tests, generated into temporary folders: PNG and NIfTI files built here
 * byte by byte, independently of the codecs under test (own filters, `zlib.crc32`, own header
 * writer), valid and broken, and small dataset folders.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';

/** A fresh temporary folder. */
export function tempDir(prefix = 'boundary-seg-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a folder made by {@link tempDir}. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `bytes` to `dir/relative`, creating folders; returns the full path. */
export function put(dir: string, relative: string, bytes: Uint8Array | string): string {
  const path = join(dir, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

// ---------------------------------------------------------------------------------------------
// PNG

/** What {@link buildPng} writes. */
export interface PngSpec {
  readonly width: number;
  readonly height: number;
  readonly colorType: 0 | 2 | 3 | 4 | 6;
  readonly bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Unpacked samples, row-major, channels interleaved (palette: indices). */
  readonly samples: ArrayLike<number>;
  /** Filter type of each row; default cycles 0, 1, 2, 3, 4. */
  readonly filters?: readonly number[];
  /** RGB triples. */
  readonly palette?: readonly (readonly [number, number, number])[];
  /** Palette alpha values (tRNS). */
  readonly transparency?: readonly number[];
  readonly interlace?: 0 | 1;
  /** Split the zlib stream over this many IDAT chunks (default 1). */
  readonly idatChunks?: number;
  /** Extra chunks inserted before IDAT. */
  readonly extraChunks?: readonly Uint8Array[];
}

const SAMPLES_PER_PIXEL = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

/** A PNG chunk with its CRC (computed with `zlib.crc32`). */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Packs one row of samples at `bitDepth` bits (big-endian for 16). */
function packRow(samples: ArrayLike<number>, start: number, count: number, bitDepth: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((count * bitDepth) / 8));
  for (let i = 0; i < count; i++) {
    const v = samples[start + i]!;
    if (bitDepth === 16) {
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 255;
    } else if (bitDepth === 8) {
      out[i] = v;
    } else {
      const bit = i * bitDepth;
      out[bit >> 3]! |= v << (8 - bitDepth - (bit & 7));
    }
  }
  return out;
}

/** Applies PNG filter `type` to `row` given the previous raw row (straight from the standard). */
function filterRow(type: number, row: Uint8Array, prev: Uint8Array, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length);
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prev[i]!;
    const c = i >= bpp ? prev[i - bpp]! : 0;
    let pred = 0;
    if (type === 1) pred = a;
    else if (type === 2) pred = b;
    else if (type === 3) pred = Math.floor((a + b) / 2);
    else if (type === 4) {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    out[i] = (row[i]! - pred + 256) % 256;
  }
  return out;
}

/** Builds a PNG file from a spec, with explicit filters (independent of `data/png.ts`). */
export function buildPng(spec: PngSpec): Uint8Array {
  const spp = SAMPLES_PER_PIXEL[spec.colorType];
  const perRow = spec.width * spp;
  const bpp = Math.max(1, (spp * spec.bitDepth) / 8);
  const rowBytes = Math.ceil((perRow * spec.bitDepth) / 8);
  const raw: number[] = [];
  let prev: Uint8Array = new Uint8Array(rowBytes);
  for (let y = 0; y < spec.height; y++) {
    const type = spec.filters?.[y] ?? y % 5;
    const row = packRow(spec.samples, y * perRow, perRow, spec.bitDepth);
    raw.push(type, ...filterRow(type, row, prev, bpp));
    prev = row;
  }
  const zdata = new Uint8Array(deflateSync(Uint8Array.from(raw)));
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, spec.width);
  view.setUint32(4, spec.height);
  ihdr.set([spec.bitDepth, spec.colorType, 0, 0, spec.interlace ?? 0], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr)];
  if (spec.palette) parts.push(pngChunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.transparency) parts.push(pngChunk('tRNS', Uint8Array.from(spec.transparency)));
  parts.push(...(spec.extraChunks ?? []));
  const pieces = spec.idatChunks ?? 1;
  const step = Math.ceil(zdata.length / pieces);
  for (let i = 0; i < pieces; i++) parts.push(pngChunk('IDAT', zdata.subarray(i * step, Math.min(zdata.length, (i + 1) * step))));
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  return Uint8Array.from(Buffer.concat(parts));
}

/** An 8-bit gray PNG of `values` (`height × width`). */
export function grayPng(values: ArrayLike<number>, height: number, width: number): Uint8Array {
  return buildPng({ width, height, colorType: 0, bitDepth: 8, samples: values });
}

// ---------------------------------------------------------------------------------------------
// NIfTI

/** What {@link buildNifti} writes. Defaults make a valid little-endian `.nii`. */
export interface NiftiSpec {
  /** `dim[1..]`: `[nx, ny, nz]` (x fastest in `values`). */
  readonly dims: readonly number[];
  /** NIfTI datatype code: 2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16. */
  readonly datatype: number;
  /** Stored values, x fastest. */
  readonly values: ArrayLike<number>;
  /** `pixdim[1..]`. */
  readonly pixdim?: readonly number[];
  readonly slope?: number;
  readonly inter?: number;
  readonly littleEndian?: boolean;
  readonly voxOffset?: number;
  readonly sizeofHdr?: number;
  readonly magic?: string;
  /** Override of bitpix (default from the datatype). */
  readonly bitpix?: number;
  readonly qformCode?: number;
  readonly sformCode?: number;
  /** quatern_b, c, d, qoffset_x, y, z. */
  readonly quatern?: readonly number[];
  /** srow_x, srow_y, srow_z (12 numbers). */
  readonly srow?: readonly number[];
  readonly qfac?: number;
  readonly description?: string;
}

const BYTES_OF: Record<number, number> = { 2: 1, 4: 2, 8: 4, 16: 4, 64: 8, 256: 1, 512: 2 };

/** Builds a single-file NIfTI-1 volume from a spec (independent of `data/nifti.ts`). */
export function buildNifti(spec: NiftiSpec): Uint8Array {
  const le = spec.littleEndian ?? true;
  const offset = spec.voxOffset ?? 352;
  const bytes = BYTES_OF[spec.datatype] ?? 4;
  const out = new Uint8Array(Math.max(offset, 352) + spec.values.length * bytes);
  const v = new DataView(out.buffer);
  v.setInt32(0, spec.sizeofHdr ?? 348, le);
  v.setInt16(40, spec.dims.length, le);
  spec.dims.forEach((d, i) => v.setInt16(42 + 2 * i, d, le));
  v.setInt16(70, spec.datatype, le);
  v.setInt16(72, spec.bitpix ?? bytes * 8, le);
  v.setFloat32(76, spec.qfac ?? 1, le);
  (spec.pixdim ?? spec.dims.map(() => 1)).forEach((p, i) => v.setFloat32(80 + 4 * i, p, le));
  v.setFloat32(108, offset, le);
  v.setFloat32(112, spec.slope ?? 0, le);
  v.setFloat32(116, spec.inter ?? 0, le);
  v.setUint8(123, 2 | 8); // mm, s
  out.set(Buffer.from((spec.description ?? 'fixture').slice(0, 79), 'latin1'), 148);
  v.setInt16(252, spec.qformCode ?? 0, le);
  v.setInt16(254, spec.sformCode ?? 0, le);
  (spec.quatern ?? []).forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
  (spec.srow ?? []).forEach((s, i) => v.setFloat32(280 + 4 * i, s, le));
  out.set(Buffer.from(spec.magic ?? 'n+1\0', 'latin1'), 344);
  for (let i = 0; i < spec.values.length; i++) {
    const at = offset + i * bytes;
    const x = spec.values[i]!;
    switch (spec.datatype) {
      case 2: v.setUint8(at, x); break;
      case 256: v.setInt8(at, x); break;
      case 4: v.setInt16(at, x, le); break;
      case 512: v.setUint16(at, x, le); break;
      case 8: v.setInt32(at, x, le); break;
      case 64: v.setFloat64(at, x, le); break;
      default: v.setFloat32(at, x, le);
    }
  }
  return out;
}

/** gzip of a file's bytes. */
export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

// ---------------------------------------------------------------------------------------------
// Images and datasets

/** A `height × width` image with a bright disk (values 0–255) and its 0/1 mask. */
export function diskSlice(height: number, width: number, cy: number, cx: number, r: number): { image: Uint8Array; mask: Uint8Array } {
  const image = new Uint8Array(height * width);
  const mask = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (y - cy) ** 2 + (x - cx) ** 2 <= r * r;
      mask[y * width + x] = inside ? 1 : 0;
      image[y * width + x] = 40 + (inside ? 150 : 0) + ((3 * x + 5 * y) % 17);
    }
  }
  return { image, mask };
}

/**
 * A PNG dataset folder: `cases` train cases and 2 val cases of `size × size`, labels stored as
 * 0/`foreground` (255 for binary255 masks, 1 for indices).
 */
export function pngDataset(dir: string, options: { size?: number; foreground?: number; train?: number } = {}): string {
  const size = options.size ?? 16;
  const fg = options.foreground ?? 255;
  const train = options.train ?? 3;
  for (const [split, count] of [['train', train], ['val', 2]] as const) {
    for (let i = 0; i < count; i++) {
      const { image, mask } = diskSlice(size, size, size / 2 + i - 1, size / 2, size / 5 + i);
      const name = `case${split === 'train' ? i : 10 + i}.png`;
      put(dir, `${split}/img/${name}`, grayPng(image, size, size));
      put(dir, `${split}/gt/${name}`, grayPng(mask.map((m) => m * fg), size, size));
    }
  }
  return dir;
}

/**
 * A NIfTI dataset folder: 2 train volumes and 1 val volume of `[z, y, x] = [3, 10, 12]` (int16 images
 * with slope 2 and intercept 100, uint8 0/1 labels), `.nii.gz` images and `.nii` labels.
 */
export function niftiDataset(dir: string): string {
  const [nz, ny, nx] = [3, 10, 12];
  const cases = [['train', 'vol0'], ['train', 'vol1'], ['val', 'vol2']] as const;
  cases.forEach(([split, name], k) => {
    const image: number[] = [];
    const label: number[] = [];
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++) {
          const inside = (y - 5) ** 2 + (x - 6 - k) ** 2 <= (2 + z) ** 2;
          image.push(10 * z + (inside ? 300 : 0) + x);
          label.push(inside ? 1 : 0);
        }
      }
    }
    const pixdim = [0.9, 0.8, 2.5];
    put(dir, `${split}/img/${name}.nii.gz`, gzip(buildNifti({ dims: [nx, ny, nz], datatype: 4, values: image, pixdim, slope: 2, inter: 100 })));
    put(dir, `${split}/gt/${name}.nii`, buildNifti({ dims: [nx, ny, nz], datatype: 2, values: label, pixdim }));
  });
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Error checks

/** An error class of the library's family. */
type ErrorClass = new (...args: never[]) => Error;

/**
 * Asserts that `run` throws (or rejects with) an error of class `kind` whose message is one line,
 * names `where` (a file or folder) and matches `pattern`.
 */
export async function assertDataError(run: () => unknown, kind: ErrorClass, where: string, pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof kind, `expected a ${kind.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const message = (caught as Error).message;
  assert.ok(!message.includes('\n'), `expected a one-line message, got ${JSON.stringify(message)}`);
  assert.ok(message.includes(where), `expected the message to name ${where}: ${message}`);
  assert.match(message, pattern);
}
