/**
 * The library's one family of errors. Every error thrown by a library function is one of these,
 * carries the operation (`op`) and the argument (`argument`) it is about, and has a message that
 * names what was expected and what came.
 */

/** Fields shared by every error of the family. */
export interface ErrorContext {
  /** The operation or function that refused its input, e.g. `conv2d`, `edt`. */
  readonly op: string;
  /** The argument that was wrong, e.g. `x`, `spacing`, `options.padding`. */
  readonly argument: string;
}

/** Base class of the family; not thrown directly. */
export abstract class BoundarySegError extends Error implements ErrorContext {
  readonly op: string;
  readonly argument: string;
  constructor(op: string, argument: string, message: string) {
    super(`${op}: ${argument}: ${message}`);
    this.op = op;
    this.argument = argument;
    this.name = new.target.name;
  }
}

/** A shape (rank, size, broadcast compatibility) that does not fit the operation. */
export class ShapeError extends BoundarySegError {}

/** A value that does not fit: wrong type, out of range, non-finite, not binary, bad option. */
export class InputError extends BoundarySegError {}

/** A backend that is missing, cannot start, or failed while running a kernel. */
export class BackendError extends BoundarySegError {}

/** Formats a shape for messages: `[2, 3, 4]`. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
