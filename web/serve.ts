/**
 * `npm run web`: builds the playground page into `dist/web` and serves it on 127.0.0.1 with the
 * cross-origin isolation headers (see `web/build.ts`), then prints the address to open.
 *
 *   node --import tsx web/serve.ts [--port N]     (default 8080; 0 = any free port)
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../core/errors.js';
import { buildWeb, serveStatic } from './build.js';

/** The default port of `npm run web`. */
export const DEFAULT_PORT = 8080;

const USAGE = 'usage: npm run web -- [--port N]   (N in [0, 65535], default 8080; 0 = any free port)';

/** The options of the command. */
export interface ServeOptions {
  readonly port: number;
  readonly help: boolean;
}

/**
 * Parses the command's arguments: `--port N` or `--port=N`, `--help`.
 *
 * @throws InputError naming `--port` (a missing or bad value) or the unknown argument.
 */
export function parseServeArgs(argv: readonly string[]): ServeOptions {
  let port = DEFAULT_PORT;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
    } else if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg === '--port' ? argv[++i] : arg.slice('--port='.length);
      const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(n) || n > 65535) {
        throw new InputError('web', '--port', `expected an integer in [0, 65535], got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
      }
      port = n;
    } else {
      throw new InputError('web', arg, `unknown argument; ${USAGE}`);
    }
  }
  return { port, help };
}

async function main(argv: readonly string[]): Promise<void> {
  let options: ServeOptions;
  try {
    options = parseServeArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const outdir = resolve(fileURLToPath(new URL('..', import.meta.url)), 'dist/web');
  await buildWeb(outdir);
  const server = await serveStatic(outdir, options.port);
  console.log(`built the playground into ${outdir}`);
  console.log(`open ${server.url}`);
  console.log('(Ctrl-C stops the server)');
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
