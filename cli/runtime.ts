/**
 * What every command does around its work: select the backend, name and create the output folder
 * (only once every input has been validated), and write files atomically.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendError } from '../core/errors.js';
import { parseBackendSpec, setBackend } from '../core/backend.js';
import { UsageError } from './errors.js';

/** Selects `--backend NAME[:MODE]` (a usage error when unknown or when it cannot start). */
export async function selectBackend(spec: string | undefined): Promise<void> {
  if (spec === undefined) return;
  const { name, options } = parseBackendSpec(spec);
  try {
    await setBackend(name, options);
  } catch (e) {
    if (e instanceof BackendError) throw new UsageError(`--backend ${spec}: ${e.message.replace(/^setBackend: name: /, '')}`);
    throw e;
  }
}

/** `runs/<command>-<timestamp>` (local time, to the second). */
export function defaultOut(command: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join('runs', `${command}-${stamp}`);
}

/**
 * Checks that `dir` can become an output folder (absent, or an empty folder) without creating it.
 *
 * @throws UsageError naming `--out` when it is a file or a folder with files.
 */
export async function checkOutFolder(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) throw new UsageError(`--out ${dir}: exists and is not a folder`);
  if ((await readdir(dir)).length > 0) throw new UsageError(`--out ${dir}: folder exists and is not empty (choose a new --out, or --resume a run)`);
}

/** Creates the output folder (and parents). Call only after every input was validated. */
export async function createOutFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
