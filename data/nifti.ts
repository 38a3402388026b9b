/**
 * NIfTI-1 single-file volumes (`.nii`, `.nii.gz`), written on `node:zlib`.
 *
 * Layout of the 348-byte header (offsets in bytes): `sizeof_hdr` (0, int32, 348; read in either
 * byte order, which then is the file's), `dim` (40, 8 × int16), `datatype` (70, int16), `bitpix`
 * (72), `pixdim` (76, 8 × float32), `vox_offset` (108, float32), `scl_slope` / `scl_inter` (112 /
 * 116), `qform_code` / `sform_code` (252 / 254), quaternion and offsets (256–279), `srow_x/y/z`
 * (280–327), `magic` (344, `"n+1\0"`). Voxels are stored with x fastest, so the data read as a
 * row-major array has shape `[z, y, x]` (`[dim3, dim2, dim1]`), the order used throughout.
 */
import { gzipSync } from 'node:zlib';
import { InputError } from '../core/errors.js';
import { MAX_INFLATED_BYTES, MAX_VOXELS, NIFTI_INFLATE_SLACK, gunzipBounded, gunzipPrefix } from './limits.js';

/** A volume as read: intensities with `scl_slope`/`scl_inter` applied, `[z, y, x]`. */
export interface NiftiVolume {
  /** Voxel values as float32, row-major `[z, y, x]`, scaling applied. */
  readonly data: Float32Array;
  /** `[dim3, dim2, dim1]` = `[z, y, x]`; missing dimensions are 1. */
  readonly shape: [number, number, number];
  /** `[pixdim3, pixdim2, pixdim1]` in the file's units (mm for scans); 0 or missing entries read as 1. */
  readonly spacing: [number, number, number];
  /** The original header bytes (from byte 0 to `vox_offset`, extensions included), for writing back. */
  readonly header: Uint8Array;
  /** The NIfTI datatype code of the stored voxels (2 uint8, 4 int16, 8 int32, 16 float32, …). */
  readonly datatype: number;
}

/** What {@link writeNifti} writes. */
export interface NiftiOutput {
  /** Row-major `[z, y, x]` voxels. */
  readonly data: Float32Array | Uint8Array;
  readonly shape: [number, number, number];
  /** `[z, y, x]` voxel size, written to `pixdim[3], pixdim[2], pixdim[1]`. */
  readonly spacing: [number, number, number];
  /** A header to take the orientation (qform, sform, `pixdim[0]`), units and description from. */
  readonly header?: Uint8Array;
  /** Stored type; default `uint8` for Uint8Array data, `float32` for Float32Array data. */
  readonly datatype?: 'uint8' | 'float32';
}

interface Datatype {
  readonly name: string;
  readonly bytes: number;
  readonly read: (view: DataView, at: number, littleEndian: boolean) => number;
}

/** Supported datatype codes (NIfTI-1 `DT_*`). */
const DATATYPES: Readonly<Record<number, Datatype>> = {
  2: { name: 'uint8', bytes: 1, read: (v, at) => v.getUint8(at) },
  4: { name: 'int16', bytes: 2, read: (v, at, le) => v.getInt16(at, le) },
  8: { name: 'int32', bytes: 4, read: (v, at, le) => v.getInt32(at, le) },
  16: { name: 'float32', bytes: 4, read: (v, at, le) => v.getFloat32(at, le) },
  64: { name: 'float64', bytes: 8, read: (v, at, le) => v.getFloat64(at, le) },
  256: { name: 'int8', bytes: 1, read: (v, at) => v.getInt8(at) },
  512: { name: 'uint16', bytes: 2, read: (v, at, le) => v.getUint16(at, le) },
  768: { name: 'uint32', bytes: 4, read: (v, at, le) => v.getUint32(at, le) },
};

const HEADER_SIZE = 348;
/** Header plus the 4-byte extension flag: where single-file data starts when there are no extensions. */
const DATA_OFFSET = 352;

type Fail = (message: string) => InputError;

/** Byte order of a NIfTI-1 header, from `sizeof_hdr`; throws naming what was found otherwise. */
function headerByteOrder(view: DataView, fail: Fail): boolean {
  const little = view.getInt32(0, true);
  const big = view.getInt32(0, false);
  if (little === HEADER_SIZE) return true;
  if (big === HEADER_SIZE) return false;
  if (little === 540 || big === 540) throw fail('NIfTI-2 files are not supported (sizeof_hdr 540): save as NIfTI-1');
  throw fail(`bad sizeof_hdr ${little} (expected 348): not a NIfTI-1 file`);
}

/**
 * The bytes a NIfTI-1 header declares for its file: `vox_offset` + voxels × bytes per voxel
 * (undefined when the header cannot say: too short, or fields out of range; the full read then
 * names the problem).
 */
function declaredFileBytes(header: Uint8Array): number | undefined {
  if (header.length < HEADER_SIZE) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const little = view.getInt32(0, true) === HEADER_SIZE;
  if (!little && view.getInt32(0, false) !== HEADER_SIZE) return undefined;
  const rank = view.getInt16(40, little);
  if (rank < 1 || rank > 7) return undefined;
  let voxels = 1;
  for (let i = 0; i < rank; i++) voxels *= Math.max(1, view.getInt16(42 + 2 * i, little));
  const type = DATATYPES[view.getInt16(70, little)];
  const offset = view.getFloat32(108, little);
  if (type === undefined || !Number.isFinite(offset) || offset < HEADER_SIZE) return undefined;
  return offset + voxels * type.bytes;
}

/**
 * Gunzips a `.nii.gz`, bounded by what its header declares: the header is read from the start of
 * the stream first, then the inflation stops once it passes `vox_offset` + voxel bytes +
 * `NIFTI_INFLATE_SLACK` (or `MAX_INFLATED_BYTES`), so a decompression bomb is refused without
 * being inflated. When the header cannot say its size, only the start is returned: the header
 * checks then refuse it.
 */
function gunzipVolume(bytes: Uint8Array, fail: Fail): Uint8Array {
  const start = gunzipPrefix(bytes, DATA_OFFSET);
  if (!start.ok) throw fail(`corrupt gzip data (zlib: ${start.kind === 'corrupt' ? start.message : 'unreadable start'})`);
  const declared = declaredFileBytes(start.bytes);
  if (declared === undefined) {
    // A header that cannot say its size: a small inflation tells a broken stream from a bad header,
    // which the header checks then refuse, naming what is wrong.
    const small = gunzipBounded(bytes, DATA_OFFSET + NIFTI_INFLATE_SLACK);
    if (!small.ok && small.kind === 'corrupt') throw fail(`corrupt gzip data (zlib: ${small.message})`);
    return small.ok ? small.bytes : start.bytes;
  }
  if (declared > MAX_INFLATED_BYTES) throw fail(`the header declares ${declared} bytes, more than the ${MAX_INFLATED_BYTES} allowed`);
  const limit = Math.min(MAX_INFLATED_BYTES, declared + NIFTI_INFLATE_SLACK);
  const r = gunzipBounded(bytes, limit);
  if (r.ok) return r.bytes;
  if (r.kind === 'too-large') throw fail(`gzip data inflates to more than ${limit} bytes, but the header declares ${declared}: refused as a decompression bomb or corrupt file`);
  throw fail(`corrupt gzip data (zlib: ${r.message})`);
}

/**
 * Reads a single-file NIfTI-1 volume, gzipped or not (detected by the gzip magic bytes).
 *
 * Datatypes: uint8, int8, int16, uint16, int32, uint32, float32, float64. `scl_slope` ≠ 0 (and
 * finite) scales the values: `v · slope + inter`; slope 0 means no scaling. Volumes of rank up to 3
 * are read; a 4th dimension of size 1 is accepted, larger ones are refused.
 *
 * @param bytes the whole file.
 * @param file the file name, used in error messages.
 * @throws InputError naming `file`: corrupt gzip, gzip data that inflates beyond what the header
 *   declares (a decompression bomb), short file, bad `sizeof_hdr`, magic, dimensions, a volume
 *   above `MAX_VOXELS`, unknown datatype, `bitpix` that does not match it, bad `vox_offset`,
 *   truncated voxel data.
 */
export function readNifti(bytes: Uint8Array, file = 'NIfTI data'): NiftiVolume {
  const fail: Fail = (message) => new InputError('readNifti', file, message);
  if (!(bytes instanceof Uint8Array)) throw fail('expected the file bytes as a Uint8Array');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipVolume(bytes, fail);
  if (bytes.length < HEADER_SIZE) throw fail(`truncated: ${bytes.length} bytes, a NIfTI-1 header needs 348`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = headerByteOrder(view, fail);
  const magic = String.fromCharCode(...bytes.subarray(344, 347));
  if (magic === 'ni1') throw fail('this is the header of a .hdr/.img pair: convert it to a single-file .nii');
  if (magic !== 'n+1' || bytes[347] !== 0) throw fail('bad magic (expected "n+1"): not a single-file NIfTI-1 volume');

  const rank = view.getInt16(40, le);
  if (rank < 1 || rank > 7) throw fail(`bad dim[0] = ${rank} (expected 1 to 7)`);
  const dims = Array.from({ length: 7 }, (_, i) => (i < rank ? view.getInt16(42 + 2 * i, le) : 1));
  dims.forEach((d, i) => {
    if (d < 1) throw fail(`bad dim[${i + 1}] = ${d} (expected ≥ 1)`);
  });
  const extra = dims.slice(3).findIndex((d) => d > 1);
  if (extra >= 0) {
    throw fail(`${extra + 4}-D volumes (dim[${extra + 4}] = ${dims[extra + 3]}) are not supported: store each modality in its own file (case_0000.nii.gz, case_0001.nii.gz, …)`);
  }
  const [nx, ny, nz] = dims as [number, number, number];
  const voxels = nx * ny * nz;
  if (voxels > MAX_VOXELS) throw fail(`volume of ${nx}×${ny}×${nz} voxels is too large: at most ${MAX_VOXELS} voxels`);

  const code = view.getInt16(70, le);
  const type = DATATYPES[code];
  if (type === undefined) throw fail(`unknown or unsupported datatype ${code} (supported: ${Object.entries(DATATYPES).map(([c, t]) => `${c} ${t.name}`).join(', ')})`);
  const bitpix = view.getInt16(72, le);
  if (bitpix !== type.bytes * 8) throw fail(`bitpix ${bitpix} does not match datatype ${code} (${type.name}, ${type.bytes * 8} bits)`);

  const pixdim = (i: number): number => {
    const p = Math.abs(view.getFloat32(76 + 4 * i, le));
    return Number.isFinite(p) && p > 0 ? p : 1;
  };
  const offsetValue = view.getFloat32(108, le);
  if (!Number.isInteger(offsetValue) || offsetValue < HEADER_SIZE) throw fail(`bad vox_offset ${offsetValue} (expected an integer ≥ 348)`);
  const offset = offsetValue;
  const needed = voxels * type.bytes;
  if (offset + needed > bytes.length) {
    throw fail(`truncated: ${voxels} ${type.name} voxels need ${needed} bytes from offset ${offset}, the file has ${Math.max(0, bytes.length - offset)}`);
  }

  const slope = view.getFloat32(112, le);
  const interRaw = view.getFloat32(116, le);
  const scaled = Number.isFinite(slope) && slope !== 0;
  const inter = scaled && Number.isFinite(interRaw) ? interRaw : 0;
  const data = new Float32Array(voxels);
  for (let i = 0; i < voxels; i++) {
    const v = type.read(view, offset + i * type.bytes, le);
    data[i] = scaled ? v * slope + inter : v;
  }
  return {
    data,
    shape: [nz, ny, nx],
    spacing: [pixdim(3), pixdim(2), pixdim(1)],
    header: new Uint8Array(bytes.subarray(0, offset)), // a copy, whatever kind of Uint8Array came in
    datatype: code,
  };
}

/**
 * Writes a single-file NIfTI-1 volume (little-endian, no extensions, data at byte 352,
 * `scl_slope` 1, `scl_inter` 0).
 *
 * With `volume.header`, the orientation is kept: `qform_code`, `sform_code`, the quaternion and its
 * offsets, `srow_x/y/z`, `pixdim[0]` (qfac), `xyzt_units`, `dim_info` and `descrip` are copied (from
 * a header of either byte order); dimensions, datatype and voxel size come from `volume`. Without a
 * header both orientation codes are 0 (voxel size only).
 *
 * @param gzip compress the file (for `.nii.gz`).
 * @throws InputError naming `volume`: bad shape, spacing, data length or datatype, uint8 output of
 *   values that are not integers in [0, 255], a header that is not NIfTI-1.
 */
export function writeNifti(volume: NiftiOutput, gzip: boolean): Uint8Array {
  const fail: Fail = (message) => new InputError('writeNifti', 'volume', message);
  const { data, shape, spacing } = volume;
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1 || d > 32767)) {
    throw fail(`expected shape [z, y, x] of integers in [1, 32767], got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(spacing) || spacing.length !== 3 || spacing.some((s) => !Number.isFinite(s) || s <= 0)) {
    throw fail(`expected spacing [z, y, x] of positive numbers, got ${JSON.stringify(spacing)}`);
  }
  if (!(data instanceof Float32Array || data instanceof Uint8Array)) throw fail('expected Float32Array or Uint8Array data');
  const voxels = shape[0] * shape[1] * shape[2];
  if (data.length !== voxels) throw fail(`${data.length} values do not fill shape [${shape.join(', ')}] (${voxels})`);
  const datatype = volume.datatype ?? (data instanceof Uint8Array ? 'uint8' : 'float32');
  if (datatype !== 'uint8' && datatype !== 'float32') throw fail(`expected datatype 'uint8' or 'float32', got ${String(datatype)}`);
  if (datatype === 'uint8' && data instanceof Float32Array) {
    const bad = data.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 255);
    if (bad >= 0) throw fail(`uint8 output needs integers in [0, 255], value ${data[bad]} at index ${bad}`);
  }

  const bytesPerVoxel = datatype === 'uint8' ? 1 : 4;
  const out = new Uint8Array(DATA_OFFSET + voxels * bytesPerVoxel);
  const view = new DataView(out.buffer);
  if (volume.header !== undefined) copyOrientation(volume.header, view, fail);
  else view.setFloat32(76, 1, true); // qfac
  view.setInt32(0, HEADER_SIZE, true);
  const dims = [3, shape[2], shape[1], shape[0], 1, 1, 1, 1];
  dims.forEach((d, i) => view.setInt16(40 + 2 * i, d, true));
  view.setInt16(70, datatype === 'uint8' ? 2 : 16, true);
  view.setInt16(72, bytesPerVoxel * 8, true);
  [spacing[2], spacing[1], spacing[0]].forEach((s, i) => view.setFloat32(80 + 4 * i, s, true));
  view.setFloat32(108, DATA_OFFSET, true);
  view.setFloat32(112, 1, true);
  view.setFloat32(116, 0, true);
  out.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  if (datatype === 'uint8') {
    out.set(data, DATA_OFFSET);
  } else {
    for (let i = 0; i < voxels; i++) view.setFloat32(DATA_OFFSET + 4 * i, data[i]!, true);
  }
  return gzip ? new Uint8Array(gzipSync(out)) : out;
}

/** Copies the orientation fields of `header` (any byte order) into a little-endian header. */
function copyOrientation(header: Uint8Array, target: DataView, fail: Fail): void {
  if (!(header instanceof Uint8Array) || header.length < HEADER_SIZE) throw fail('header: expected the 348+ bytes of a NIfTI-1 header');
  const source = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const le = headerByteOrder(source, (message) => fail(`header: ${message}`));
  target.setUint8(39, source.getUint8(39)); // dim_info
  target.setUint8(123, source.getUint8(123)); // xyzt_units
  for (let i = 0; i < 80; i++) target.setUint8(148 + i, source.getUint8(148 + i)); // descrip
  target.setInt16(252, source.getInt16(252, le), true); // qform_code
  target.setInt16(254, source.getInt16(254, le), true); // sform_code
  const qfac = source.getFloat32(76, le);
  target.setFloat32(76, qfac === -1 ? -1 : 1, true);
  for (let at = 256; at < 328; at += 4) target.setFloat32(at, source.getFloat32(at, le), true); // quatern_*, qoffset_*, srow_*
}
