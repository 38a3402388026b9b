/**
 * Host file output for every part of the library (loaders, checkpoints, reports): writing files so
 * that a reader never sees half of one: write a temporary file beside the target, flush it to the
 * disk (`fsync`), rename it over the target (atomic on POSIX file systems within one directory),
 * then flush the directory so that the rename itself survives a crash.
 *
 * Temporary files are named `.<name>.<12 hex digits>.tmp`. The ones being written are tracked, so
 * that a signal handler can remove them (`removePendingTemporaryFilesSync`), and a resumed run can
 * remove those an earlier, killed process left behind (`removeTemporaryFiles`).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The low-level operations `writeFileAtomic` uses. Tests replace them (`setFileSystem`) to inject
 * failures such as a full disk.
 */
export interface AtomicFileSystem {
  /** Creates `path` (it must not exist) and writes all of `bytes` to it, then flushes it to the disk. */
  writeAndSync(path: string, bytes: Uint8Array): Promise<void>;
  /** Renames `from` to `to`, replacing `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Flushes a directory's entries to the disk (a no-op where the platform cannot). */
  syncDirectory(path: string): Promise<void>;
}

/** Node's file system: `open(…, 'wx')`, `write`, `fsync`, `close`; `rename`; `fsync` of the folder. */
export const nodeFileSystem: AtomicFileSystem = {
  async writeAndSync(path, bytes) {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => rename(from, to),
  async syncDirectory(path) {
    let handle;
    try {
      handle = await open(path, 'r');
      await handle.sync();
    } catch (error) {
      // Some platforms and file systems cannot open or flush a directory: the rename stands anyway.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP') throw error;
    } finally {
      await handle?.close();
    }
  },
};

let fileSystem: AtomicFileSystem = nodeFileSystem;

/** Replaces the file operations of `writeFileAtomic` (tests); returns the previous ones. */
export function setFileSystem(next: AtomicFileSystem): AtomicFileSystem {
  const previous = fileSystem;
  fileSystem = next;
  return previous;
}

/** Temporary files being written now, by this process. */
const pending = new Set<string>();

/** A temporary name of ours: `.<name>.<12 hex digits>.tmp`. */
const TEMPORARY = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** Whether `name` (a file name, without folder) is one of `writeFileAtomic`'s temporary names. */
export function isTemporaryName(name: string): boolean {
  return TEMPORARY.test(name);
}

/** A failed write: the target file is named in the message; `code` is Node's (`ENOSPC`, …). */
export class FileWriteError extends Error {
  readonly code: string | undefined;
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const detail = cause instanceof Error ? cause.message.replace(/,\s*\w+\s+'[^']*'(\s*->\s*'[^']*')?$/, '') : String(cause);
    super(`cannot write ${path}: ${detail}`);
    this.name = 'FileWriteError';
    this.code = code;
    this.path = path;
  }
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory
 * (`.<name>.<random>.tmp`) is written, flushed to the disk and renamed over `path`, then the
 * directory is flushed. The directory must exist. On failure the temporary file is removed and a
 * `FileWriteError` naming `path` is thrown (with Node's `code`, e.g. `ENOSPC`).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  pending.add(temporary);
  try {
    await fileSystem.writeAndSync(temporary, data);
    await fileSystem.rename(temporary, path);
    pending.delete(temporary);
    await fileSystem.syncDirectory(dirname(path));
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new FileWriteError(path, error);
  } finally {
    pending.delete(temporary);
  }
}

/**
 * Removes, synchronously, the temporary files this process is writing now: for a signal handler
 * that is about to end the process. Returns the paths removed.
 */
export function removePendingTemporaryFilesSync(): string[] {
  const removed: string[] = [];
  for (const path of pending) {
    try {
      rmSync(path, { force: true });
      removed.push(path);
    } catch {
      // Nothing more can be done while exiting.
    }
  }
  pending.clear();
  return removed;
}

/**
 * Removes the temporary files of `writeFileAtomic` (`.<name>.<12 hex>.tmp`) that an interrupted
 * process left in `dir` (not in its sub-folders), except those this process is writing. Returns
 * the names removed.
 */
export async function removeTemporaryFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() && isTemporaryName(e.name)).map((e) => e.name);
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (pending.has(path)) continue;
    await rm(path, { force: true });
    removed.push(name);
  }
  return removed;
}

/** The temporary files of `writeFileAtomic` in `dir` (names), for checks. */
export function listTemporaryFilesSync(dir: string): string[] {
  try {
    return readdirSync(dir).filter(isTemporaryName);
  } catch {
    return [];
  }
}
