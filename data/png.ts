/**
 * PNG codec (ISO/IEC 15948), written on `node:zlib`: what the loaders need to read slice folders
 * and the CLI needs to write labels, overlays and charts.
 *
 * Decoding reads every colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA) at every bit
 * depth the standard allows (1, 2, 4, 8, 16), all five row filters (None, Sub, Up, Average, Paeth),
 * IDAT data split over several chunks, and checks every chunk's CRC-32. Adam7-interlaced images are
 * refused with a clear error. Ancillary chunks are skipped (a gray or RGB `tRNS` colour key is
 * ignored; a palette `tRNS` gives the palette an alpha channel).
 *
 * Encoding writes 8- or 16-bit gray, gray + alpha, RGB or RGBA, choosing each row's filter by the
 * usual minimum-sum-of-absolute-differences heuristic.
 */
import { deflateSync } from 'node:zlib';
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { crc32 } from './crc32.js';
import { MAX_INFLATED_BYTES, MAX_PNG_SAMPLES, PNG_INFLATE_SLACK, inflateBounded } from './limits.js';

/** A decoded raster: row-major, channels interleaved (`data[(y·width + x)·channels + c]`). */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  /** 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
  /** 8 (`Uint8Array` data) or 16 (`Uint16Array` data). */
  readonly bitDepth: 8 | 16;
  readonly data: Uint8Array | Uint16Array;
}

/** Options of {@link decodePng}. */
export interface DecodePngOptions {
  /**
   * Return a palette image's indices as one 8-bit channel instead of expanding the palette to RGB(A)
   * (label maps saved with a palette store class indices there). Default false.
   */
  readonly keepPaletteIndices?: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** Samples per pixel and allowed bit depths of each PNG colour type. */
const COLOR_TYPES: Readonly<Record<number, { samples: number; depths: readonly number[]; name: string }>> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16], name: 'gray' },
  2: { samples: 3, depths: [8, 16], name: 'RGB' },
  3: { samples: 1, depths: [1, 2, 4, 8], name: 'palette' },
  4: { samples: 2, depths: [8, 16], name: 'gray + alpha' },
  6: { samples: 4, depths: [8, 16], name: 'RGBA' },
};


interface Chunk {
  readonly type: string;
  readonly data: Uint8Array;
  readonly offset: number;
}

interface Header {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
}

type Fail = (message: string) => InputError;

/**
 * Decodes a PNG file.
 *
 * Palette images are expanded to RGB (RGBA when the palette has a `tRNS` chunk) unless
 * `options.keepPaletteIndices`; gray samples of 1, 2 or 4 bits are scaled to 8 bits as the standard
 * says (v · 255 / (2^depth − 1): a 1-bit 0/1 image becomes 0/255, as PIL reads it).
 *
 * @param bytes the whole file.
 * @param file the file name, used in error messages.
 * @throws InputError naming `file`: bad signature, truncated file, CRC mismatch, bad header,
 *   interlaced image, corrupt zlib data, short image data, image data that inflates beyond what
 *   the header declares (a decompression bomb), an image above `MAX_PNG_SAMPLES`, unknown filter
 *   type, bad palette index.
 */
export function decodePng(bytes: Uint8Array, file = 'PNG data', options: DecodePngOptions = {}): RasterImage {
  const fail: Fail = (message) => new InputError('decodePng', file, message);
  checkOptionKeys('decodePng', options, ['keepPaletteIndices']);
  if (!(bytes instanceof Uint8Array)) throw fail('expected the file bytes as a Uint8Array');
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw fail('not a PNG file (bad signature)');
  }
  const chunks = readChunks(bytes, fail);
  if (chunks[0]?.type !== 'IHDR') throw fail('corrupt: the first chunk is not IHDR');
  const header = readHeader(chunks[0], fail);
  const type = COLOR_TYPES[header.colorType]!;
  let palette: Uint8Array | undefined;
  let alpha: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (const chunk of chunks.slice(1)) {
    if (chunk.type === 'PLTE') palette = readPalette(chunk, fail);
    else if (chunk.type === 'tRNS' && header.colorType === 3) alpha = chunk.data;
    else if (chunk.type === 'IDAT') idat.push(chunk.data);
    else if (chunk.type === 'IHDR') throw fail(`corrupt: a second IHDR chunk at byte ${chunk.offset}`);
    else if (isCritical(chunk.type) && chunk.type !== 'IEND') throw fail(`unsupported critical chunk ${chunk.type} at byte ${chunk.offset}`);
  }
  if (header.colorType === 3 && palette === undefined) throw fail('corrupt: a palette image without a PLTE chunk');
  if (idat.length === 0) throw fail('corrupt: no IDAT chunk (no image data)');

  const rowBytes = Math.ceil((header.width * type.samples * header.bitDepth) / 8);
  const expected = header.height * (rowBytes + 1);
  if (expected > MAX_INFLATED_BYTES) throw fail(`image of ${header.width}×${header.height} needs ${expected} bytes of image data, more than the ${MAX_INFLATED_BYTES} allowed`);
  const raw = inflate(idat, expected, header, fail);
  if (raw.length < expected) {
    throw fail(`truncated image data: ${raw.length} bytes after decompression, expected ${expected} for ${header.width}×${header.height} ${type.name} at ${header.bitDepth} bits`);
  }
  const bytesPerPixel = Math.max(1, (type.samples * header.bitDepth) / 8);
  const rows = unfilter(raw, header.height, rowBytes, bytesPerPixel, fail);
  const samples = unpackSamples(rows, header, type.samples, rowBytes);
  if (header.colorType === 3) {
    if (options.keepPaletteIndices) {
      checkPaletteIndices(samples as Uint8Array, palette!.length / 3, fail);
      return { width: header.width, height: header.height, channels: 1, bitDepth: 8, data: samples };
    }
    return expandPalette(samples as Uint8Array, palette!, alpha, header, fail);
  }
  return {
    width: header.width,
    height: header.height,
    channels: type.samples as 1 | 2 | 3 | 4,
    bitDepth: header.bitDepth === 16 ? 16 : 8,
    data: samples,
  };
}

/**
 * Encodes an 8- or 16-bit gray, gray + alpha, RGB or RGBA image as PNG (not interlaced).
 *
 * @throws InputError naming `image` for bad dimensions, channel count, bit depth or data length.
 */
export function encodePng(image: RasterImage): Uint8Array {
  const fail: Fail = (message) => new InputError('encodePng', 'image', message);
  const { width, height, channels, bitDepth, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw fail(`expected positive integer width and height, got ${width}×${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw fail(`expected 1 to 4 channels, got ${channels}`);
  if (bitDepth === 8 ? !(data instanceof Uint8Array) : bitDepth === 16 ? !(data instanceof Uint16Array) : true) {
    throw fail(`bit depth ${bitDepth} needs ${bitDepth === 16 ? 'Uint16Array' : 'Uint8Array'} data (bit depth 8 or 16), got ${data?.constructor?.name ?? typeof data}`);
  }
  if (data.length !== width * height * channels) {
    throw fail(`${data.length} samples do not fill ${width}×${height}×${channels} (${width * height * channels})`);
  }
  const colorType = [0, 4, 2, 6][channels - 1]!;
  const bytesPerPixel = (channels * bitDepth) / 8;
  const rowBytes = width * bytesPerPixel;
  const filtered = new Uint8Array(height * (rowBytes + 1));
  const row = new Uint8Array(rowBytes);
  const previous = new Uint8Array(rowBytes);
  const candidate = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    packRow(data, y * width * channels, width * channels, bitDepth, row);
    const out = filtered.subarray(y * (rowBytes + 1), (y + 1) * (rowBytes + 1));
    let best = Infinity;
    for (let filter = 0; filter <= 4; filter++) {
      const cost = applyFilter(filter, row, previous, bytesPerPixel, candidate);
      if (cost < best) {
        best = cost;
        out[0] = filter;
        out.set(candidate, 1);
      }
    }
    previous.set(row);
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  return concatBytes([
    Uint8Array.from(SIGNATURE),
    chunkBytes('IHDR', ihdr),
    chunkBytes('IDAT', new Uint8Array(deflateSync(filtered))),
    chunkBytes('IEND', new Uint8Array(0)),
  ]);
}

/** One chunk: length, type, data, CRC over type and data. */
function chunkBytes(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits the file after the signature into CRC-checked chunks, up to and including IEND. */
function readChunks(bytes: Uint8Array, fail: Fail): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  let at = SIGNATURE.length;
  for (;;) {
    if (at + 8 > bytes.length) throw fail(`truncated: the file ends at byte ${bytes.length} before an IEND chunk`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw fail(`corrupt: invalid chunk type at byte ${at}`);
    if (at + 12 + length > bytes.length) {
      throw fail(`truncated: chunk ${type} at byte ${at} needs ${length} data bytes and a CRC, the file ends at byte ${bytes.length}`);
    }
    const stored = view.getUint32(at + 8 + length);
    if (crc32(bytes, at + 4, at + 8 + length) !== stored) throw fail(`corrupt: CRC mismatch in chunk ${type} at byte ${at}`);
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length), offset: at });
    at += 12 + length;
    if (type === 'IEND') return chunks;
  }
}

function isCritical(type: string): boolean {
  return type.charCodeAt(0) < 97; // uppercase first letter
}

function readHeader(chunk: Chunk, fail: Fail): Header {
  if (chunk.data.length !== 13) throw fail(`corrupt: IHDR has ${chunk.data.length} bytes, expected 13`);
  const view = new DataView(chunk.data.buffer, chunk.data.byteOffset, 13);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [bitDepth, colorType, compression, filter, interlace] = chunk.data.subarray(8, 13) as unknown as number[];
  if (width === 0 || height === 0 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1) throw fail(`bad image size ${width}×${height}`);
  const type = COLOR_TYPES[colorType!];
  if (type === undefined) throw fail(`unknown colour type ${colorType}`);
  if (!type.depths.includes(bitDepth!)) throw fail(`bit depth ${bitDepth} is not allowed for colour type ${colorType} (${type.name})`);
  if (compression !== 0) throw fail(`unknown compression method ${compression}`);
  if (filter !== 0) throw fail(`unknown filter method ${filter}`);
  if (interlace === 1) throw fail('Adam7-interlaced PNGs are not supported: save the image without interlacing');
  if (interlace !== 0) throw fail(`unknown interlace method ${interlace}`);
  if (width * height * type.samples > MAX_PNG_SAMPLES) throw fail(`image of ${width}×${height} (${type.name}) is too large: at most ${MAX_PNG_SAMPLES} samples (width × height × channels)`);
  return { width, height, bitDepth: bitDepth!, colorType: colorType! };
}

function readPalette(chunk: Chunk, fail: Fail): Uint8Array {
  if (chunk.data.length === 0 || chunk.data.length % 3 !== 0 || chunk.data.length > 768) {
    throw fail(`corrupt: PLTE has ${chunk.data.length} bytes, expected 3 to 768 in steps of 3`);
  }
  return chunk.data;
}

/**
 * Inflates the IDAT data, stopping as soon as it exceeds what the header declares (`expected`
 * bytes, plus `PNG_INFLATE_SLACK`): a decompression bomb is refused without inflating it.
 */
function inflate(parts: readonly Uint8Array[], expected: number, header: Header, fail: Fail): Uint8Array {
  const limit = expected + PNG_INFLATE_SLACK;
  const r = inflateBounded(concatBytes(parts), limit);
  if (r.ok) return r.bytes;
  if (r.kind === 'too-large') {
    throw fail(`image data inflates to more than ${limit} bytes, but the header declares ${header.width}×${header.height} (${expected} bytes): refused as a decompression bomb or corrupt file`);
  }
  throw fail(`corrupt image data (zlib: ${r.message})`);
}

/** Paeth predictor: whichever of left, up, upper-left is closest to left + up − upper-left. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses the row filters in place of a fresh buffer of `height · rowBytes` bytes. */
function unfilter(raw: Uint8Array, height: number, rowBytes: number, bpp: number, fail: Fail): Uint8Array {
  const out = new Uint8Array(height * rowBytes);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)]!;
    const src = y * (rowBytes + 1) + 1;
    const cur = y * rowBytes;
    const prev = cur - rowBytes; // only read when y > 0
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? out[cur + i - bpp]! : 0;
      const b = y > 0 ? out[prev + i]! : 0;
      const c = y > 0 && i >= bpp ? out[prev + i - bpp]! : 0;
      let predictor: number;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >>> 1; break;
        case 4: predictor = paeth(a, b, c); break;
        default: throw fail(`corrupt: unknown filter type ${filter} in row ${y}`);
      }
      out[cur + i] = (raw[src + i]! + predictor) & 0xff;
    }
  }
  return out;
}

/** Applies one filter to a row; returns the heuristic cost Σ|signed byte|. */
function applyFilter(filter: number, row: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): number {
  let cost = 0;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prev[i]!;
    const c = i >= bpp ? prev[i - bpp]! : 0;
    const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >>> 1 : paeth(a, b, c);
    const v = (row[i]! - predictor) & 0xff;
    out[i] = v;
    cost += v < 128 ? v : 256 - v;
  }
  return cost;
}

/** Samples (big-endian for 16 bits) of one image row into `row`. */
function packRow(data: Uint8Array | Uint16Array, start: number, count: number, bitDepth: number, row: Uint8Array): void {
  if (bitDepth === 8) {
    row.set(data.subarray(start, start + count));
    return;
  }
  for (let i = 0; i < count; i++) {
    const v = data[start + i]!;
    row[2 * i] = v >>> 8;
    row[2 * i + 1] = v & 0xff;
  }
}

/** Unfiltered rows → one sample per element: 16-bit big-endian words, sub-byte samples unpacked. */
function unpackSamples(rows: Uint8Array, header: Header, samples: number, rowBytes: number): Uint8Array | Uint16Array {
  const { width, height, bitDepth, colorType } = header;
  const perRow = width * samples;
  if (bitDepth === 8) return rows;
  if (bitDepth === 16) {
    const out = new Uint16Array(height * perRow);
    for (let i = 0; i < out.length; i++) out[i] = (rows[2 * i]! << 8) | rows[2 * i + 1]!;
    return out;
  }
  const out = new Uint8Array(height * perRow);
  const mask = (1 << bitDepth) - 1;
  const scale = colorType === 3 ? 1 : 255 / mask;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * bitDepth;
      const byte = rows[y * rowBytes + (bit >>> 3)]!;
      const value = (byte >>> (8 - bitDepth - (bit & 7))) & mask;
      out[y * perRow + x] = value * scale;
    }
  }
  return out;
}

function checkPaletteIndices(indices: Uint8Array, entries: number, fail: Fail): void {
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! >= entries) throw fail(`corrupt: palette index ${indices[i]} at pixel ${i} but the palette has ${entries} entries`);
  }
}

function expandPalette(indices: Uint8Array, palette: Uint8Array, alpha: Uint8Array | undefined, header: Header, fail: Fail): RasterImage {
  checkPaletteIndices(indices, palette.length / 3, fail);
  const channels = alpha === undefined ? 3 : 4;
  const out = new Uint8Array(indices.length * channels);
  for (let p = 0; p < indices.length; p++) {
    const k = indices[p]!;
    out[p * channels] = palette[3 * k]!;
    out[p * channels + 1] = palette[3 * k + 1]!;
    out[p * channels + 2] = palette[3 * k + 2]!;
    if (alpha !== undefined) out[p * channels + 3] = k < alpha.length ? alpha[k]! : 255;
  }
  return { width: header.width, height: header.height, channels, bitDepth: 8, data: out };
}
