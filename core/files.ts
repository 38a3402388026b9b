/**
 * Host file output for every part of the library (loaders, checkpoints, reports): writing files so
 * that a reader never sees half of one: write a temporary file beside the target,
 * then rename it over the target (atomic on POSIX file systems within one directory).
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory (`.<name>.<random>.tmp`)
 * is written and renamed over `path`. The directory must exist. On failure the temporary file is
 * removed and the error rethrown (Node's own error, with its `code` and path).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
