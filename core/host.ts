/**
 * The host seam: the two things the library needs from its platform beyond JavaScript and
 * WebAssembly — a file system, for training run folders (`train(…, { dir })` writes `best.ckpt`,
 * `last.ckpt` and `metrics.csv`), and worker threads, for the `wasm` backend's fork-join pool.
 *
 * Nothing else in the library asks which platform it runs on: the code that writes a run folder
 * or starts a worker asks `getHost()` for the capability and says so when it is missing. Node's
 * entry points register Node's capabilities (`core/host-node.ts`, imported by
 * `backends/register.ts` and `backends/wasm/backend.ts`, so by every Node entry point); the browser
 * entry points register none, so that in a page `train` refuses `dir` (an InputError) and `wasm`
 * runs on the calling thread. This module itself imports nothing from the platform.
 */
import { InputError } from './errors.js';
import { checkOptionKeys } from './options.js';

/** Files: what a training run folder needs. */
export interface HostFiles {
  /** The path of the file `name` in the folder `dir`. */
  join(dir: string, name: string): string;
  /**
   * Writes `bytes` (a string as UTF-8) to `path` atomically, so that a reader never sees half of
   * the file; the folder must exist. Rejects with an error naming `path` when the write fails.
   */
  writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void>;
}

/** The end of a message channel kept by the thread that made it. */
export interface HostPort {
  postMessage(message: unknown): void;
  close(): void;
}

/** A started worker thread. */
export interface HostWorker {
  /** Stops the worker (at once, whatever it is doing). */
  terminate(): void;
}

/** Worker threads: what the `wasm` backend's fork-join pool needs. */
export interface HostWorkers {
  /** The threads a `wasm` backend uses when its options do not say (an integer ≥ 1). */
  defaultThreads(): number;
  /**
   * A message channel: `local` stays on this thread; `remote` goes to one worker, in its `data`
   * and in the `transfer` list of `start`.
   */
  channel(): { readonly local: HostPort; readonly remote: unknown };
  /**
   * Starts a worker thread running `program`: the body of a JavaScript function in whose scope
   * `data` is the object given here (structured-cloned; a shared `WebAssembly.Memory` and compiled
   * modules are shared, not copied) and `receiveMessage(port)` returns the next message posted to
   * `port` (a `remote` end that came in `data`), synchronously, or undefined when none has arrived.
   * The program may use `Atomics.wait`. A started worker never keeps the process alive.
   */
  start(program: string, data: Readonly<Record<string, unknown>>, transfer: readonly unknown[]): HostWorker;
}

/** A native digest: faster than the library's JavaScript SHA-256, with the same bytes. */
export interface HostDigest {
  /** The SHA-256 digest of `bytes` (32 bytes). */
  sha256(bytes: Uint8Array): Uint8Array;
}

/** What the platform provides. A capability left out is one the platform does not have. */
export interface Host {
  readonly files?: HostFiles;
  readonly workers?: HostWorkers;
  /** Optional everywhere: without it checkpoints are hashed in JavaScript (same digest). */
  readonly digest?: HostDigest;
}

const HOST_KEYS: readonly (keyof Host)[] = ['files', 'workers', 'digest'];

/** Until a host registers: neither files nor worker threads (a browser page, or any JavaScript engine). */
let current: Host = Object.freeze({});

/** The registered host (`{}`, no capabilities, until one registers). */
export function getHost(): Host {
  return current;
}

/**
 * Registers what the platform provides, replacing the previous host (which is returned, so that a
 * test can put it back). Node's entry points call it on import with Node's file system and worker
 * threads; a page may register its own (files kept elsewhere, say).
 *
 * @throws InputError (`host`) when `host` is not an object, has an unknown key, or a capability
 * lacks one of its functions.
 */
export function setHost(host: Host): Host {
  if (host === null || typeof host !== 'object') throw new InputError('setHost', 'host', `expected an object with optional files, workers and digest, got ${host === null ? 'null' : typeof host}`);
  checkOptionKeys('setHost', host, HOST_KEYS, 'host');
  const needs: Record<keyof Host, readonly string[]> = { files: ['join', 'writeFileAtomic'], workers: ['defaultThreads', 'channel', 'start'], digest: ['sha256'] };
  for (const k of HOST_KEYS) {
    const capability = host[k] as Readonly<Record<string, unknown>> | undefined;
    if (capability === undefined) continue;
    const missing = needs[k].filter((f) => typeof capability?.[f] !== 'function');
    if (missing.length > 0) throw new InputError('setHost', `host.${k}`, `expected an object with the functions ${needs[k].join(', ')}; missing: ${missing.join(', ')}`);
  }
  const previous = current;
  current = host;
  return previous;
}
