/**
 * `boundary-seg backends`: which built-in tensor backends (and gpu.js modes) start on this machine,
 * and what each reports running its kernels. Each is started once; one that cannot start (headless
 * GL without a display, WebGPU without a Vulkan driver) is reported with the reason, never thrown.
 */
import type { BackendDescription } from '../../core/backend.js';
import { defaultBackendName, getBackend, listBackends, setBackend } from '../../core/backend.js';
import { GPUJS_MODES } from '../../backends/gpujs/settings.js';
import { helpText, parseArgs, type FlagSpec } from '../args.js';
import { EXIT } from '../errors.js';
import { io } from '../io.js';
import { checkThreadsVariable, holdingStderr } from '../runtime.js';

const SUMMARY = 'which tensor backends (and gpu.js modes) start here, and what runs their kernels';
const USAGE = 'backends [--json]';

/** `backends`'s flags. */
export const backendsFlags: readonly FlagSpec[] = [
  { name: 'json', kind: 'boolean', help: 'print a JSON array, one object per backend: { backend, default, ok, description | reason }' },
  { name: 'debug', kind: 'boolean', help: 'print the stack of each backend that cannot start (on stderr)' },
];

/** `backends --help`. */
export const backendsHelp = (): string => helpText('backends', SUMMARY, USAGE, backendsFlags);

/** The built-in backends, in the order listed; `gpujs` is listed per mode. */
const BUILT_IN = ['wasm', 'cpu', 'cpu64', 'gpujs'] as const;

/** Longest wait for one backend to start (ms) before it is reported as unavailable. */
export const PROBE_TIMEOUT_MS = 30_000;

/** What `backends` found out about one backend. */
export interface BackendProbe {
  /** The `--backend` value: `wasm`, `gpujs:webgpu`. */
  readonly backend: string;
  /** True for the backend the commands use without `--backend` and `BOUNDARY_SEG_BACKEND`. */
  readonly default: boolean;
  /** Whether it started. */
  readonly ok: boolean;
  /** What it reports (`describe()`), when it started. */
  readonly description?: BackendDescription;
  /** Why it could not start, in one line, when it did not. */
  readonly reason?: string;
}

/** A started backend: what it reports, and how to let go of it. */
export interface StartedBackend {
  /** The backend's `describe()`. */
  describe(): Promise<BackendDescription>;
  /** Releases what the backend holds when nothing else may use it (a GPU device); may do nothing. */
  close(): Promise<void>;
}

/** Starts the backend of a `--backend` value (`NAME` or `NAME:MODE`). */
export type BackendStarter = (choice: string) => Promise<StartedBackend>;

/**
 * The `--backend` values `backends` tries: each built-in backend registered (`wasm`, `cpu`,
 * `cpu64`) and, when `gpujs` is registered, each gpu.js mode but `auto` (`gpujs:webgpu`,
 * `gpujs:headlessgl`, `gpujs:webasm`, `gpujs:cpu`; `auto` picks one of them).
 */
export function backendChoices(registered: readonly string[] = listBackends()): string[] {
  return BUILT_IN.filter((name) => registered.includes(name))
    .flatMap((name) => (name === 'gpujs' ? GPUJS_MODES.filter((m) => m !== 'auto').map((m) => `gpujs:${m}`) : [name]));
}

/**
 * Starts a `--backend` value as the commands do. The CPU backends are selected in the registry
 * (the instance the commands would use, kept); a gpu.js mode is created apart from the registry
 * and closed after use (a WebGPU device would keep the process alive), so the registry never
 * holds a closed one.
 */
export const startBackend: BackendStarter = async (choice) => {
  const [name, mode] = choice.split(':') as [string, string | undefined];
  if (name === 'gpujs') {
    const { createGpujsBackend } = await import('../../backends/gpujs/backend.js');
    const backend = await createGpujsBackend(mode !== undefined ? { mode } : {});
    return { describe: () => backend.describe(), close: () => backend.dispose() };
  }
  await setBackend(name, {});
  const backend = getBackend();
  return { describe: () => backend.describe(), close: async () => undefined };
};

/**
 * An error's message in one line, without the prefixes that repeat what the line names
 * (`setBackend: options.mode: `, `backend 'x' failed to start: `, the mode of `choice`).
 */
function reasonOf(error: unknown, choice: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const mode = choice.split(':')[1];
  let reason = message.replace(/\s*\n\s*/g, ' ')
    .replace(/^(setBackend|getBackend): (name|options|options\.mode): /, '')
    .replace(/^backend '[^']*' failed to start: /, '');
  if (mode !== undefined && reason.startsWith(`${mode}: `)) reason = reason.slice(mode.length + 2);
  return reason.trim() || 'failed to start (no reason given)';
}

/**
 * Starts `choice` with `start` (stderr held back meanwhile, see `holdingStderr`), describes it and
 * closes it. Never throws: a failure, or no start within `timeoutMs`, is `ok: false` with the
 * reason (a start that ends after the timeout is closed then).
 *
 * @param isDefault whether `choice` is the default backend (copied into the result).
 * @param onError called with each failure (for `--debug`).
 */
export async function probeBackend(choice: string, isDefault: boolean, start: BackendStarter = startBackend, timeoutMs = PROBE_TIMEOUT_MS, onError: (error: unknown) => void = () => undefined): Promise<BackendProbe> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const description = await holdingStderr(async () => {
      const starting = start(choice);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not start within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      const started = await Promise.race([starting, timeout]).catch((e: unknown) => {
        starting.then((late) => late.close(), () => undefined).catch(() => undefined);
        throw e;
      });
      try {
        return await started.describe();
      } finally {
        await started.close();
      }
    });
    return { backend: choice, default: isDefault, ok: true, description };
  } catch (e) {
    onError(e);
    return { backend: choice, default: isDefault, ok: false, reason: reasonOf(e, choice) };
  } finally {
    clearTimeout(timer);
  }
}

/** A description in a few words: `mode 2 threads; kernels …; renderer …; software; float32`. */
export function describeLine(d: BackendDescription): string {
  return [
    d.mode !== undefined ? `mode ${d.mode}` : undefined,
    d.kernelClass !== undefined ? `kernels ${d.kernelClass}` : undefined,
    d.renderer !== undefined ? `renderer ${d.renderer}` : undefined,
    d.software === true ? 'software' : undefined,
    d.precision,
  ].filter((s) => s !== undefined).join('; ');
}

/**
 * The text `backends` prints: one line per backend, `NAME [(default)]  ok: DESCRIPTION` or
 * `NAME [(default)]  unavailable: REASON`, then a line naming `BOUNDARY_SEG_BACKEND` when `env` is
 * set (the commands use it instead of the default).
 */
export function formatProbes(probes: readonly BackendProbe[], env: string | undefined = process.env['BOUNDARY_SEG_BACKEND']): string {
  const label = (p: BackendProbe) => `${p.backend}${p.default ? ' (default)' : ''}`;
  const width = Math.max(0, ...probes.map((p) => label(p).length)) + 2;
  const lines = probes.map((p) => `${label(p).padEnd(width)}${p.ok ? `ok: ${describeLine(p.description ?? { name: p.backend })}` : `unavailable: ${p.reason ?? 'failed to start'}`}`);
  if (env !== undefined && env.trim() !== '') lines.push('', `BOUNDARY_SEG_BACKEND=${env}: the commands use this instead of the default`);
  return `${lines.join('\n')}\n`;
}

/**
 * `boundary-seg backends`. Tries every backend of `backendChoices` in turn, prints the lines of
 * `formatProbes` (or, with `--json`, the probes as a JSON array), and selects the default backend
 * again. Returns 0 when the default backend starts, else 1.
 *
 * @throws UsageError for an unknown flag or a bad `BOUNDARY_SEG_THREADS`.
 */
export async function backendsCommand(argv: readonly string[], start: BackendStarter = startBackend): Promise<number> {
  const flags = parseArgs(argv, backendsFlags);
  if (flags['help']) {
    io.out(backendsHelp());
    return 0;
  }
  checkThreadsVariable();
  const fallback = defaultBackendName();
  const probes: BackendProbe[] = [];
  const choices = backendChoices();
  if (fallback !== undefined && !choices.includes(fallback)) choices.unshift(fallback);
  for (const choice of choices) {
    probes.push(await probeBackend(choice, choice === fallback, start, PROBE_TIMEOUT_MS, (e) => {
      if (flags['debug'] === true) io.err(`boundary-seg: ${choice}: ${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
    }));
  }
  // NOTE: the CPU backends were selected in turn: select the default again (an instance kept).
  const defaultOk = probes.some((p) => p.default && p.ok);
  if (fallback !== undefined && defaultOk) await setBackend(fallback, {});
  io.out(flags['json'] === true ? `${JSON.stringify(probes, null, 2)}\n` : formatProbes(probes));
  if (!defaultOk) io.err(`boundary-seg: error: the default backend${fallback !== undefined ? ` '${fallback}'` : ''} ${fallback === undefined ? 'is not registered' : 'cannot start'}\n`);
  return defaultOk ? EXIT.ok : EXIT.internal;
}
