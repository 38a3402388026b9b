/**
 * Where the command line writes: results to `out` (stdout), messages and progress to `err`
 * (stderr). Tests swap these to capture a command's output in-process.
 */

/** The output channels. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` is a terminal (progress bars redraw in place there). */
  errIsTty(): boolean;
}

/** The process's streams. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  errIsTty: () => process.stderr.isTTY === true,
};

/** The channels in use (replace with `setIo`). */
export let io: CliIo = processIo;

/** Replaces the output channels; returns the previous ones. */
export function setIo(next: CliIo): CliIo {
  const previous = io;
  io = next;
  return previous;
}
