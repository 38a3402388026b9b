/**
 * The decoders' size limits, in one place: how large an image may be and how far a compressed
 * stream may inflate. A file beyond them is refused with an `InputError` naming the file, before
 * the memory is taken (the inflation stops at the limit).
 */
import { constants, gunzipSync, inflateSync } from 'node:zlib';

/** Most bytes any compressed stream (PNG image data, a `.nii.gz` file) may inflate to: 1 GiB. */
export const MAX_INFLATED_BYTES = 2 ** 30;

/** Largest PNG, in samples (width × height × channels): 2^28. */
export const MAX_PNG_SAMPLES = 2 ** 28;

/** Largest NIfTI volume, in voxels: 2^28 (1 GiB of float32 values). */
export const MAX_VOXELS = 2 ** 28;

/**
 * Bytes a PNG's image data may inflate to beyond what its header declares (rows × (1 + row
 * bytes)): a little room for encoders that flush an extra empty block.
 */
export const PNG_INFLATE_SLACK = 1024;

/** Bytes a `.nii.gz` may inflate to beyond its header's `vox_offset` + voxel bytes. */
export const NIFTI_INFLATE_SLACK = 64 * 1024;

/** Why a bounded inflation failed. */
export type InflateFailure = { readonly kind: 'too-large' } | { readonly kind: 'corrupt'; readonly message: string };

/** Result of a bounded inflation. */
export type InflateResult = { readonly ok: true; readonly bytes: Uint8Array } | ({ readonly ok: false } & InflateFailure);

function bounded(run: () => Buffer): InflateResult {
  try {
    const out = run();
    return { ok: true, bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) return { ok: false, kind: 'too-large' };
    return { ok: false, kind: 'corrupt', message: error instanceof Error ? error.message : String(error) };
  }
}

/** Inflates a zlib stream, stopping (`too-large`) once more than `limit` bytes come out. */
export function inflateBounded(bytes: Uint8Array, limit: number): InflateResult {
  return bounded(() => inflateSync(bytes, { maxOutputLength: Math.max(1, Math.min(limit, MAX_INFLATED_BYTES)) }));
}

/** Gunzips a gzip file, stopping (`too-large`) once more than `limit` bytes come out. */
export function gunzipBounded(bytes: Uint8Array, limit: number): InflateResult {
  return bounded(() => gunzipSync(bytes, { maxOutputLength: Math.max(1, Math.min(limit, MAX_INFLATED_BYTES)) }));
}

/**
 * The first bytes of a gzip file's content (at least `count` when they are found), read from a
 * growing prefix of the compressed bytes (1 KiB up to 64 KiB), so that a header can be read
 * before the whole stream is inflated. Each try inflates at most ~1,032 times its prefix
 * (deflate's largest ratio).
 *
 * @returns the bytes (fewer than `count` for a short or odd file), or the failure.
 */
export function gunzipPrefix(bytes: Uint8Array, count: number): InflateResult {
  let last: InflateResult = { ok: true, bytes: new Uint8Array(0) };
  for (const size of [1024, 4096, 16384, 65536]) {
    const take = Math.min(bytes.length, size);
    const whole = take === bytes.length;
    last = bounded(() => gunzipSync(bytes.subarray(0, take), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(count, take * 1100) }));
    if ((last.ok && last.bytes.length >= count) || whole) return last;
  }
  return last;
}
