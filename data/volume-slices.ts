/**
 * Cutting a `[z, y, x]` volume into 2-D planes along one axis, and stacking planes back into a
 * volume (e.g. per-slice predictions into a label volume for `predict`).
 */
import { InputError, ShapeError, showShape } from '../core/errors.js';

/** A volume axis: 0 (z), 1 (y) or 2 (x) of `[z, y, x]`. */
export type VolumeAxis = 0 | 1 | 2;

/** The shape `[rows, columns]` of the planes cut along `axis`: the other two axes, in order. */
export function planeShape(shape: readonly [number, number, number], axis: VolumeAxis): [number, number] {
  const [a, b] = [0, 1, 2].filter((i) => i !== axis) as [number, number];
  return [shape[a]!, shape[b]!];
}

function checkAxis(op: string, shape: readonly number[], axis: number): void {
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new InputError(op, 'axis', `expected 0, 1 or 2, got ${axis}`);
  if (shape.length !== 3) throw new ShapeError(op, 'shape', `expected [z, y, x], got ${showShape(shape)}`);
}

/**
 * Plane `index` of a row-major `[z, y, x]` volume, cut perpendicular to `axis`; its shape is
 * {@link planeShape}.
 */
export function slicePlane<T extends Float32Array | Uint8Array>(data: T, shape: readonly [number, number, number], axis: VolumeAxis, index: number): T {
  checkAxis('slicePlane', shape, axis);
  if (!Number.isInteger(index) || index < 0 || index >= shape[axis]) {
    throw new InputError('slicePlane', 'index', `expected an integer in [0, ${shape[axis]}), got ${index}`);
  }
  const [, ny, nx] = shape;
  if (axis === 0) return data.slice(index * ny * nx, (index + 1) * ny * nx) as T;
  const [rows, cols] = planeShape(shape, axis);
  const out = new (data.constructor as new (n: number) => T)(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // axis 1: rows are z, columns x; axis 2: rows are z, columns y.
      out[r * cols + c] = axis === 1 ? data[(r * ny + index) * nx + c]! : data[(r * ny + c) * nx + index]!;
    }
  }
  return out;
}

/**
 * The inverse of {@link slicePlane}: `shape[axis]` planes, in order, stacked into a `[z, y, x]`
 * volume.
 *
 * @throws ShapeError when the number of planes or a plane's size does not fit `shape` and `axis`.
 */
export function stackPlanes<T extends Float32Array | Uint8Array>(planes: readonly T[], shape: readonly [number, number, number], axis: VolumeAxis): T {
  checkAxis('stackPlanes', shape, axis);
  const [rows, cols] = planeShape(shape, axis);
  if (planes.length !== shape[axis]) throw new ShapeError('stackPlanes', 'planes', `expected ${shape[axis]} planes for ${showShape(shape)} along axis ${axis}, got ${planes.length}`);
  if (planes.length === 0) throw new ShapeError('stackPlanes', 'planes', 'expected at least one plane');
  const [, ny, nx] = shape;
  const out = new (planes[0]!.constructor as new (n: number) => T)(shape[0] * ny * nx);
  planes.forEach((plane, index) => {
    if (plane.length !== rows * cols) throw new ShapeError('stackPlanes', `planes[${index}]`, `expected ${rows}×${cols} values, got ${plane.length}`);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const at = axis === 0 ? (index * ny + r) * nx + c : axis === 1 ? (r * ny + index) * nx + c : (r * ny + c) * nx + index;
        out[at] = plane[r * cols + c]!;
      }
    }
  });
  return out;
}
