/**
 * Checkpoint files (Node): reading a checkpoint file, the metrics rows of the run folder beside
 * it, loading and saving. The format and everything that works on bytes (`encodeCheckpoint`,
 * `decodeCheckpoint`, `restoreCheckpoint`, …) is in `checkpoint-codec.ts`, re-exported here, which
 * runs on any platform.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/files.js';
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { checkArchitecture, decodeCheckpoint, encodeCheckpoint, METRICS_FILE, restoreCheckpoint, type Checkpoint, type CheckpointFile } from './checkpoint-codec.js';
import { parseMetricsCsv, sameRow, type EpochRow } from './metrics-log.js';
import { NETWORK_CONFIG_KEYS, type NetworkConfig } from './networks.js';

export * from './checkpoint-codec.js';

function bad(file: string, message: string): InputError {
  return new InputError('checkpoint', file, message);
}

/** Reads and parses a checkpoint file. @throws InputError naming the file when it cannot be read. */
export async function readCheckpointFile(path: string): Promise<CheckpointFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(path, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a checkpoint file' : `cannot read: ${(e as Error).message}`);
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * The metrics rows of a version-2 `last` checkpoint: the rows of `metrics.csv` beside it for the
 * epochs before its own, then its `lastRow`. Undefined when there is no `metrics.csv`.
 *
 * @throws InputError naming `metrics.csv` when it cannot be read or parsed, has fewer rows than
 * the checkpoint needs, or a row for the checkpoint's epoch that differs from the checkpoint's.
 */
export async function readRunRows(ckpt: CheckpointFile): Promise<EpochRow[] | undefined> {
  const h = ckpt.header;
  if (h.version !== 2 || !h.resume) return undefined;
  const path = join(dirname(ckpt.file), METRICS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError('checkpoint', path, `cannot read: ${(e as Error).message}`);
  }
  const all = parseMetricsCsv(text, h.resume.config.losses, path, h.model.classes);
  const done = h.epoch;
  const last = h.resume.lastRow;
  if (last.epoch !== done - 1) throw bad(ckpt.file, `its last row is for epoch ${last.epoch + 1}, but it was written after epoch ${done}`);
  if (all.length < done - 1) throw new InputError('checkpoint', path, `has ${all.length} epoch rows, but ${ckpt.file} was written after epoch ${done} (rows for epochs 1–${done - 1} are needed)`);
  const own = all[done - 1];
  if (own !== undefined && !sameRow(own, last)) throw new InputError('checkpoint', path, `the row of epoch ${done} differs from the one in ${ckpt.file}: the files come from different runs`);
  return [...all.slice(0, done - 1), last];
}

/**
 * Reads, checks and uploads a checkpoint file (see `restoreCheckpoint`). For a version-2 `last`
 * checkpoint the metrics rows come from the `metrics.csv` beside it (see `readRunRows`).
 *
 * @throws InputError naming the file (see `restoreCheckpoint`), or an unknown key of `expected`
 * (before the file is read).
 */
export async function loadCheckpoint(path: string, expected?: Partial<NetworkConfig>): Promise<Checkpoint> {
  checkOptionKeys('loadCheckpoint', expected, NETWORK_CONFIG_KEYS, 'expected');
  const file = await readCheckpointFile(path);
  if (expected) checkArchitecture(file, expected);
  return restoreCheckpoint(file, expected, await readRunRows(file));
}


/** Encodes and writes a checkpoint atomically. */
export async function saveCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(ckpt));
}
