/**
 * Progress on stderr: on a terminal, one bar redrawn in place with the rate and the time left;
 * otherwise (a log, CI) a plain line at most every ~10 s. Silent when `quiet`.
 */
import { io } from './io.js';

/** A progress display over a known number of units (training steps). */
export interface Progress {
  /** Sets the units done so far and a short status (e.g. `epoch 3/20 loss 0.41`). */
  update(done: number, status: string): void;
  /** Prints a line of its own (above the bar on a terminal). */
  log(line: string): void;
  /** Clears the bar. */
  finish(): void;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Options of `createProgress`. */
export interface ProgressOptions {
  readonly total: number;
  /** The unit's name for the rate: `step`. */
  readonly unit?: string;
  readonly quiet?: boolean;
  /** Seconds between plain lines when not on a terminal (10). */
  readonly interval?: number;
  /** Units already done before this display started (a resumed run): they do not count in the rate. */
  readonly start?: number;
}

/**
 * The characters a progress bar may use on a terminal of `columns` columns: the terminal's width,
 * or 100 when it reports none or a width too small to be real (0 or a few columns: some terminals
 * and pseudo-terminals do), so that the rate and the time left stay visible.
 */
export function barWidth(columns: number | undefined): number {
  return columns !== undefined && Number.isFinite(columns) && columns >= 40 ? columns : 100;
}

/** A progress display for `total` units. */
export function createProgress(options: ProgressOptions): Progress {
  const tty = io.errIsTty();
  const stream = { write: (text: string) => io.err(text), columns: tty ? process.stderr.columns : undefined };
  const unit = options.unit ?? 'step';
  const interval = (options.interval ?? 10) * 1000;
  const t0 = Date.now();
  const startDone = options.start ?? 0;
  let lastPrint = t0;
  let barShown = false;
  const clear = () => {
    if (tty && barShown) stream.write('\r\x1b[K');
    barShown = false;
  };
  const describe = (done: number, status: string) => {
    const elapsed = (Date.now() - t0) / 1000;
    const counted = done - startDone;
    const rate = elapsed > 0 ? counted / elapsed : 0;
    const left = rate > 0 ? (options.total - done) / rate : NaN;
    const rateText = rate >= 1 ? `${rate.toFixed(1)} ${unit}/s` : rate > 0 ? `${(1 / rate).toFixed(1)} s/${unit}` : `- s/${unit}`;
    return { rateText, left: formatDuration(left), elapsed: formatDuration(elapsed), status };
  };
  if (options.quiet) return { update: () => undefined, log: () => undefined, finish: () => undefined };
  return {
    update(done, status) {
      const d = describe(done, status);
      const pct = options.total > 0 ? Math.min(1, done / options.total) : 1;
      if (tty) {
        const width = 24;
        const filled = Math.round(pct * width);
        const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${options.total} ${d.rateText}, ${d.left} left  ${status}`;
        stream.write(`\r\x1b[K${text.slice(0, barWidth(stream.columns) - 1)}`);
        barShown = true;
      } else if (Date.now() - lastPrint >= interval || done === options.total) {
        lastPrint = Date.now();
        stream.write(`${(pct * 100).toFixed(0)}% (${done}/${options.total} ${unit}s, ${d.rateText}, ${d.elapsed} elapsed, ${d.left} left) ${status}\n`);
      }
    },
    log(line) {
      clear();
      stream.write(`${line}\n`);
    },
    finish: clear,
  };
}
