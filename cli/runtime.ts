/**
 * What every command does around its work: select the backend, name and create the output folder
 * (only once every input has been validated), write files atomically, and record where the run
 * ran (the package, Node and backend versions: `runEnvironment`).
 *
 * The output folder is checked before anything is created (a file, a dangling symbolic link, a
 * symbolic link loop, a folder that cannot hold new folders such as `/proc` or `/sys` are usage
 * errors naming `--out`), and created one level at a time: never with a recursive `mkdir`, which
 * loops for ever under `/proc` on Node 20.
 */
import { readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readlink, rmdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../core/errors.js';
import { getBackend, listBackends, setBackend, type BackendDescription } from '../core/backend.js';
import { GPUJS_MODES } from '../backends/gpujs/settings.js';
import { UsageError } from './errors.js';
import { io } from './io.js';

/** The modes each built-in backend takes after `NAME:` (an empty list: no mode). */
const BACKEND_MODES: Readonly<Record<string, readonly string[]>> = {
  wasm: [],
  cpu: [],
  cpu64: [],
  gpujs: GPUJS_MODES,
};

/** Most threads of the `wasm` backend (`BOUNDARY_SEG_THREADS` above it is lowered to it, with a warning). */
export const MAX_THREADS = 8;

/**
 * Parses and checks `NAME[:MODE]` (from `--backend` or `BOUNDARY_SEG_BACKEND`, named `source` in
 * errors): the name must be registered and the mode one the backend knows.
 *
 * @throws UsageError naming `source`.
 */
export function parseBackendChoice(text: string, source: string): { name: string; options: Record<string, unknown> } {
  const parts = text.split(':').map((s) => s.trim());
  if (parts.length > 2) throw new UsageError(`${source}: expected NAME or NAME:MODE, got '${text}'`);
  const [name, mode] = parts as [string, string | undefined];
  const registered = listBackends();
  if (name === '') throw new UsageError(`${source}: no backend name (registered: ${registered.join(', ')})`);
  if (!registered.includes(name)) throw new UsageError(`${source}: unknown backend '${name}' (registered: ${registered.join(', ')})`);
  const modes = BACKEND_MODES[name];
  if (mode !== undefined) {
    if (mode === '') throw new UsageError(`${source}: empty mode after '${name}:'`);
    if (modes !== undefined && !modes.includes(mode)) {
      throw new UsageError(modes.length === 0
        ? `${source}: backend '${name}' has no modes, got '${mode}' (use --backend ${name})`
        : `${source}: unknown mode '${mode}' of backend '${name}' (modes: ${modes.join(', ')})`);
    }
  }
  return { name, options: mode !== undefined ? { mode } : {} };
}

/**
 * Checks `BOUNDARY_SEG_THREADS`: unset or an integer from 1 to `MAX_THREADS`. A larger integer is
 * lowered to `MAX_THREADS` in this process's environment, with a warning.
 *
 * @throws UsageError naming the variable for anything else (`abc`, `0`, `-3`, `2.5`).
 */
export function checkThreadsVariable(warn: (line: string) => void = (line) => io.err(`${line}\n`)): void {
  const raw = process.env['BOUNDARY_SEG_THREADS'];
  if (raw === undefined || raw === '') return;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new UsageError(`BOUNDARY_SEG_THREADS=${raw}: expected an integer from 1 to ${MAX_THREADS} (threads of the wasm backend)`);
  }
  const n = Number(raw);
  if (n > MAX_THREADS) {
    warn(`boundary-seg: warning: BOUNDARY_SEG_THREADS=${raw} is above the maximum of ${MAX_THREADS}: using ${MAX_THREADS} threads`);
    process.env['BOUNDARY_SEG_THREADS'] = String(MAX_THREADS);
  }
}

/**
 * Runs `fn` with what is written to the process's stderr held back (native GPU runtimes print
 * their probing there, e.g. Dawn's "Couldn't load Vulkan"). Held text is written out when `fn`
 * succeeds and dropped when it fails: the one-line error says what went wrong.
 */
export async function holdingStderr<T>(fn: () => Promise<T>): Promise<T> {
  const stream = process.stderr;
  const original = stream.write;
  let held = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    held += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
  try {
    const value = await fn();
    stream.write = original;
    if (held !== '') stream.write(held);
    return value;
  } finally {
    stream.write = original;
  }
}

/**
 * Selects and starts the backend before anything is written: `--backend NAME[:MODE]` when given,
 * else `BOUNDARY_SEG_BACKEND`, else the one already selected (or the default). Checks
 * `BOUNDARY_SEG_THREADS` too.
 *
 * @throws UsageError naming the flag or the variable when the backend is unknown, the mode is
 * not one of its modes, or it cannot start.
 */
export async function selectBackend(spec: string | undefined): Promise<void> {
  checkThreadsVariable();
  const env = process.env['BOUNDARY_SEG_BACKEND'];
  const text = spec ?? (env !== undefined && env.trim() !== '' ? env : undefined);
  const source = spec !== undefined ? `--backend ${spec}` : `BOUNDARY_SEG_BACKEND=${env ?? ''}`;
  try {
    if (text === undefined) {
      getBackend();
      return;
    }
    // NOTE: without a Vulkan loader the gpujs backend does not start Dawn (`webgpu` is refused,
    // `auto` passes over it), so no native "Couldn't load Vulkan" lines come before our output.
    const { name, options } = parseBackendChoice(text, source);
    await holdingStderr(() => setBackend(name, options));
    started.add(getBackend());
  } catch (e) {
    if (e instanceof BackendError) throw new UsageError(`${source}: ${e.message.replace(/^(setBackend|getBackend): (name|options\.mode): /, '')}`);
    throw e;
  }
}

/** Backends the program started by name (`--backend`, `BOUNDARY_SEG_BACKEND`). */
const started = new Set<unknown>();

/**
 * Shuts down the backends the program started that hold a device (the gpujs backend's `dispose`):
 * a live WebGPU device keeps Node from exiting, so `boundary-seg … --backend gpujs:webgpu` would
 * otherwise never end, after an error as after success. Called once by the program as it ends
 * (not by `main`, which tests call in one process).
 */
export async function closeBackends(): Promise<void> {
  for (const b of started) {
    const close = (b as { dispose?: () => Promise<void> }).dispose;
    if (typeof close === 'function') await close.call(b);
  }
  started.clear();
}

/** The package's name, as `package.json` has it. */
const PACKAGE_NAME = 'boundary-seg';

/**
 * The version of the `boundary-seg` package holding the module at `moduleUrl`: read from the first
 * `package.json` named `boundary-seg` in the module's folder or above it (`cli/` in the sources,
 * `dist/cli/` when built).
 *
 * @throws Error when no such `package.json` is found, or its `version` is not a string.
 */
export function packageVersion(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let pkg: unknown;
      try {
        pkg = JSON.parse(text);
      } catch {
        pkg = undefined;
      }
      if (typeof pkg === 'object' && pkg !== null && (pkg as { name?: unknown }).name === PACKAGE_NAME) {
        const version = (pkg as { version?: unknown }).version;
        if (typeof version !== 'string') throw new Error(`${join(dir, 'package.json')}: no version string`);
        return version;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json of ${PACKAGE_NAME} above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}

/** What a run records of where it ran (`run.json`, `experiment.json`, `results.json`). */
export interface RunEnvironment {
  /** This package: `boundary-seg` and its version. */
  readonly package: { readonly name: string; readonly version: string };
  /** `process.version`, e.g. `v20.19.0`. */
  readonly node: string;
  /** `process.platform` and `process.arch`, e.g. `linux`, `x64`. */
  readonly platform: string;
  readonly arch: string;
  /** The selected backend's `describe()` (its name, and what it reports: mode, renderer, precision …). */
  readonly backend: BackendDescription;
  /** The installed gpu.js version, when the backend is `gpujs`. */
  readonly gpujs?: string;
}

/** The version in `name`'s installed `package.json`; undefined when it cannot be read. */
function installedVersion(name: string): string | undefined {
  try {
    const pkg: unknown = createRequire(import.meta.url)(`${name}/package.json`);
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where this process runs, for the records of a run: the package's version (`packageVersion`),
 * Node's version, the platform and architecture, the selected backend's `describe()`, and for the
 * `gpujs` backend the installed gpu.js version. Call after `selectBackend`.
 */
export async function runEnvironment(): Promise<RunEnvironment> {
  const backend = await getBackend().describe();
  const gpujs = backend.name === 'gpujs' ? installedVersion('gpu.js') : undefined;
  return {
    package: { name: PACKAGE_NAME, version: packageVersion() },
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    backend: { ...backend },
    ...(gpujs !== undefined ? { gpujs } : {}),
  };
}

/** Prints a checkpoint's warnings on stderr (a version-1 file has no checksum). */
export function warnAbout(ckpt: { readonly warnings?: readonly string[] }): void {
  for (const w of ckpt.warnings ?? []) io.err(`boundary-seg: warning: ${w}\n`);
}

/** `runs/<command>-<timestamp>` (local time, to the second). */
export function defaultOut(command: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join('runs', `${command}-${stamp}`);
}

/** Plain words for the file system's error codes. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ELOOP: 'a symbolic link loop',
  ENAMETOOLONG: 'the name is too long',
  EEXIST: 'exists',
  EINVAL: 'invalid path',
};

/** What an fs error says, in words (its code in parentheses). */
export function errnoWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  return `${ERRNO_WORDS[code] ?? 'cannot be used'} (${code})`;
}

type Entry = { kind: 'missing' } | { kind: 'dir' } | { kind: 'file' } | { kind: 'dangling'; target: string } | { kind: 'loop' } | { kind: 'error'; error: unknown };

/** What is at `path`, following symbolic links, with dangling links and loops told apart. */
async function entryAt(path: string): Promise<Entry> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? { kind: 'dir' } : { kind: 'file' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { kind: 'loop' };
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const link = await lstat(path).catch(() => undefined);
      if (link?.isSymbolicLink()) return { kind: 'dangling', target: await readlink(path).catch(() => '?') };
      return { kind: 'missing' };
    }
    return { kind: 'error', error: e };
  }
}

/**
 * The folders of `dir` that do not exist yet, outermost first, and the nearest existing ancestor.
 *
 * @throws UsageError naming `flag` and `dir` when a part of the path is a file, a dangling
 * symbolic link or a link loop, or cannot be inspected.
 */
async function missingFolders(flag: string, dir: string): Promise<{ existing: string; missing: string[] }> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const e = await entryAt(at);
    const where = at === resolve(dir) ? '' : ` (${at})`;
    switch (e.kind) {
      case 'dir':
        return { existing: at, missing };
      case 'file':
        throw new UsageError(at === resolve(dir) ? `${flag} ${dir}: exists and is not a folder` : `${flag} ${dir}: ${at} is a file, not a folder`);
      case 'dangling':
        throw new UsageError(`${flag} ${dir}: a dangling symbolic link${where} to ${e.target}`);
      case 'loop':
        throw new UsageError(`${flag} ${dir}: a symbolic link loop${where}`);
      case 'error':
        throw new UsageError(`${flag} ${dir}: cannot be used${where}: ${errnoWords(e.error)}`);
      case 'missing': {
        const parent = dirname(at);
        if (parent === at) throw new UsageError(`${flag} ${dir}: no existing folder above it`);
        missing.unshift(at);
        at = parent;
      }
    }
  }
}

/** Checks that folders can be made in `parent` by making (and removing) an empty one there. */
async function probeWritable(flag: string, dir: string, parent: string): Promise<void> {
  let probe: string;
  try {
    probe = await mkdtemp(join(parent, '.boundary-seg-probe-'));
  } catch (e) {
    throw new UsageError(`${flag} ${dir}: cannot create a folder in ${parent}: ${errnoWords(e)}`);
  }
  await rmdir(probe).catch(() => undefined);
}

/**
 * Checks that `dir` can become an output folder (absent, or an empty folder) without creating it:
 * every part of the path that exists is a folder, and the nearest existing one accepts new folders.
 *
 * @throws UsageError naming `--out` when it is a file, a folder with files, a dangling symbolic
 * link or a link loop, or lies where no folder can be made (`/proc/x`, `/sys/x`, `afile/sub`,
 * a read-only or unwritable folder).
 */
export async function checkOutFolder(dir: string, flag = '--out'): Promise<void> {
  const { existing, missing } = await missingFolders(flag, dir);
  if (missing.length === 0) {
    let names: string[];
    try {
      names = await readdir(existing);
    } catch (e) {
      throw new UsageError(`${flag} ${dir}: cannot list the folder: ${errnoWords(e)}`);
    }
    if (names.length > 0) throw new UsageError(`${flag} ${dir}: folder exists and is not empty (choose a new --out, or --resume a run)`);
  }
  await probeWritable(flag, dir, existing);
}

/**
 * Creates the output folder and the missing folders above it, one level at a time. Call only
 * after every input was validated. An existing folder is kept.
 *
 * @throws UsageError naming `--out` and the folder that could not be made.
 */
export async function createOutFolder(dir: string, flag = '--out'): Promise<void> {
  const { missing } = await missingFolders(flag, dir);
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await entryAt(folder)).kind === 'dir') continue;
      throw new UsageError(`${flag} ${dir}: cannot create ${folder}: ${errnoWords(e)}`);
    }
  }
}
