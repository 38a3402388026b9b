/**
 * Builds the playground page (`web/`) for a browser and serves it: `buildWeb` bundles the page and
 * its training worker with esbuild (the library's `browser` entry points), `serveStatic` is a tiny
 * static server that sends the cross-origin isolation headers (COOP/COEP) a page needs for
 * SharedArrayBuffer and precise timers. Node only; `web/serve.ts` is the command (`npm run web`).
 */
import { copyFile, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { InputError } from '../core/errors.js';

/** The repository root (relative output folders are resolved against it). */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `web/`, the page's sources. */
const WEB = fileURLToPath(new URL('.', import.meta.url));

/** The bundles: output name (without `.js`) → entry point under `web/src/`. */
const ENTRIES = { main: 'src/main.ts', 'train-worker': 'src/train-worker.ts' } as const;

/** Files copied as they are into the output folder. */
const STATIC_FILES = ['index.html', 'style.css'] as const;

/**
 * Bundles `web/src/main.ts` → `<outdir>/main.js` and `web/src/train-worker.ts` →
 * `<outdir>/train-worker.js` (ESM, `platform: 'browser'`, the `browser` export condition, source
 * maps beside them) and copies `web/index.html` and `web/style.css` there. A relative `outdir` is
 * resolved against the repository root.
 *
 * @param outdir the output folder, created when missing (default `dist/web`).
 * @throws InputError naming `outdir` when it is not a non-empty string; Error listing esbuild's
 *   messages when bundling fails (an unresolved import, a `node:` module, a syntax error).
 */
export async function buildWeb(outdir = 'dist/web'): Promise<void> {
  if (typeof outdir !== 'string' || outdir === '') {
    throw new InputError('buildWeb', 'outdir', `expected a folder path, got ${JSON.stringify(outdir)}`);
  }
  const out = isAbsolute(outdir) ? outdir : resolve(ROOT, outdir);
  await mkdir(out, { recursive: true });
  const entryPoints = Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, resolve(WEB, path)]));
  try {
    await build({
      entryPoints,
      outdir: out,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['browser'],
      target: 'es2022',
      sourcemap: true,
      logLevel: 'silent',
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    const lines = errors?.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text));
    throw new Error(`buildWeb: esbuild failed to bundle the page:\n${lines?.join('\n') ?? (e as Error).message}`, { cause: e });
  }
  await Promise.all(STATIC_FILES.map((name) => copyFile(resolve(WEB, name), resolve(out, name))));
}

/** Content types by file extension; anything else is sent as `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** The headers of every response: cross-origin isolation (COOP/COEP) and no caching. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** A running {@link serveStatic} server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves the files of `dir` on 127.0.0.1 (GET and HEAD; `/` and folders serve their `index.html`)
 * with {@link ISOLATION_HEADERS} and the content type of {@link CONTENT_TYPES}. A path with a `..`
 * segment, or one that leads outside `dir` (through a link), is refused with 403; a missing file
 * is 404, another method 405.
 *
 * @param dir the folder to serve.
 * @param port the port, 0 (default) for any free one.
 * @throws InputError naming `dir` when it is not a folder, or `port` when it is not an integer in
 *   [0, 65535]; the server's error when it cannot listen (e.g. the port is taken).
 */
export async function serveStatic(dir: string, port = 0): Promise<StaticServer> {
  const op = 'serveStatic';
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InputError(op, 'port', `expected an integer in [0, 65535], got ${String(port)}`);
  }
  let root: string;
  try {
    root = await realpath(resolve(dir));
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (e) {
    throw new InputError(op, 'dir', `expected a folder to serve, got ${JSON.stringify(dir)} (${(e as Error).message})`);
  }
  const server = createServer((req, res) => {
    respond(root, req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      done();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((e) => (e ? fail(e) : done()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

async function respond(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, `method ${req.method ?? '?'} not allowed\n`, { Allow: 'GET, HEAD' });
    return;
  }
  // The raw request path, before any URL normalisation could turn `/a/../b` into `/b`.
  const raw = (req.url ?? '/').split(/[?#]/, 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    send(res, 400, 'malformed path\n');
    return;
  }
  if (!path.startsWith('/') || path.includes('\0')) {
    send(res, 400, 'malformed path\n');
    return;
  }
  if (path.split(/[/\\]/).includes('..')) {
    send(res, 403, 'paths with .. are refused\n');
    return;
  }
  let file = resolve(root, `.${path}`);
  if (!inside(root, file)) {
    send(res, 403, 'outside the served folder\n');
    return;
  }
  let info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    file = resolve(file, 'index.html');
    info = await stat(file).catch(() => undefined);
  }
  if (!info?.isFile()) {
    send(res, 404, `not found: ${path}\n`);
    return;
  }
  if (!inside(root, await realpath(file))) {
    send(res, 403, 'outside the served folder\n');
    return;
  }
  const body = await readFile(file);
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(body.length),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function inside(root: string, file: string): boolean {
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
}
