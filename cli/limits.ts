/**
 * The command line's size limits, in one place (the README's "Limits" lists them): what a slice
 * fed to the network may be, how many synthetic slices may be asked for, and how much memory a
 * model and its training may take on a backend.
 */

/** Largest `--size` (slice side after resizing). */
export const MAX_SLICE_SIDE = 1024;

/**
 * Largest slice fed to the network, in pixels (height × width, after `--size`): 1024 × 1024. A
 * larger image (a 3000 × 3000 PNG) is refused before any output is written: resize it with
 * `--size`, or cut it into tiles.
 */
export const MAX_SLICE_PIXELS = 1024 * 1024;

/** Pixels of one forward pass in `eval` and `predict`: the batch shrinks to stay within it. */
export const MAX_PIXELS_PER_PASS = 1024 * 1024;

/** Most synthetic slices per split (`--train-slices`, `--val-slices`). */
export const MAX_SYNTHETIC_SLICES = 100_000;

/** Memory a backend can give one process: the `wasm` backend's 4 GiB (65,536 pages of 64 KiB). */
export const BACKEND_MEMORY_BYTES = 4 * 2 ** 30;
