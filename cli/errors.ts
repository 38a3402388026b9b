/**
 * How the command line reports failure: its exit codes and the one-line message.
 *
 *   0 success · 2 bad arguments or config · 3 bad data · 1 internal error
 */
import { BackendError, BoundarySegError } from '../core/errors.js';

/** A bad flag, config file or config field (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad input data: a folder, image, label or checkpoint that cannot be used (exit 3). */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** The exit codes. */
export const EXIT = Object.freeze({ ok: 0, internal: 1, usage: 2, data: 3 });

/**
 * The exit code of an error: usage errors 2; data errors and the library's input and shape errors
 * (thrown while reading data or checkpoints) 3; everything else, backend failures included, 1.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof DataError) return EXIT.data;
  if (error instanceof BoundarySegError && !(error instanceof BackendError)) return EXIT.data;
  return EXIT.internal;
}

/** The one-line message (`boundary-seg: error: …`), with the stack appended when `debug`. */
export function errorLine(error: unknown, debug: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = `boundary-seg: error: ${message.replace(/\s*\n\s*/g, ' ')}`;
  return debug && error instanceof Error && error.stack ? `${line}\n${error.stack}` : line;
}

/**
 * Runs `fn` (the validation of one input) and turns the library's input and shape errors into
 * usage errors: a config field that the library refuses is a bad argument, not bad data.
 */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BoundarySegError && !(e instanceof BackendError)) throw new UsageError(e.message);
    throw e;
  }
}

/** Awaits `fn` and turns the library's input and shape errors into data errors (exit 3). */
export async function asData<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BoundarySegError && !(e instanceof BackendError)) throw new DataError(e.message);
    throw e;
  }
}
