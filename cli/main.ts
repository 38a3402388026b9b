#!/usr/bin/env node
/**
 * The `boundary-seg` command line: `train`, `eval`, `predict`, `experiment`, `distmap`,
 * `backends`, each with `--help`, and `--version`. Errors are one line on stderr
 * (`boundary-seg: error: …`, the stack only with `--debug`; an unknown command or flag names the
 * nearest known one) and exit codes are 0 success, 2 bad arguments or config, 3 bad data, 1
 * internal error.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../backends/register.js';
import { removePendingTemporaryFilesSync } from '../core/files.js';
import { backendsCommand } from './commands/backends.js';
import { distmapCommand } from './commands/distmap.js';
import { evalCommand } from './commands/eval.js';
import { experimentCommand } from './commands/experiment.js';
import { predictCommand } from './commands/predict.js';
import { trainCommand } from './commands/train.js';
import { errorLine, exitCodeOf, UsageError } from './errors.js';
import { io } from './io.js';
import { closeBackends, packageVersion } from './runtime.js';
import { suggestName } from './suggest.js';

/** The commands by name. */
export const commands: Readonly<Record<string, { readonly summary: string; readonly run: (argv: readonly string[]) => Promise<number> }>> = {
  train: { summary: 'train a U-Net (GDL, boundary loss, …) and keep the best checkpoint', run: trainCommand },
  eval: { summary: 'evaluate a checkpoint on a dataset: DSC, HD, HD95 per image and summarised', run: evalCommand },
  predict: { summary: 'segment PNG or NIfTI images with a checkpoint', run: predictCommand },
  experiment: { summary: 'compare GDL, GDL + boundary and boundary loss over seeds (npm start)', run: experimentCommand },
  distmap: { summary: 'signed distance maps of a label file (NIfTI + PNG previews)', run: distmapCommand },
  backends: { summary: 'which tensor backends (and gpu.js modes) start here, and what runs their kernels', run: backendsCommand },
};

export { packageVersion };

/** What `--version` prints: `boundary-seg <version>` and `node <version>`, one a line. */
export function versionText(): string {
  return `boundary-seg ${packageVersion()}\nnode ${process.version}\n`;
}

/** The top-level help. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length)) + 2;
  return [
    'boundary-seg: the boundary loss for highly unbalanced segmentation',
    '',
    'usage: boundary-seg <command> [flags]      boundary-seg <command> --help',
    '       boundary-seg --version               the version, and that of Node',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'exit codes: 0 success, 2 bad arguments or config, 3 bad data, 1 internal error',
    '',
  ].join('\n');
}

/** Runs the command line on `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.out(mainHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-V') {
      io.out(versionText());
      return 0;
    }
    const command = commands[name];
    if (!command) {
      const names = Object.keys(commands);
      const near = suggestName(name, name.startsWith('-') ? ['--help', '--version'] : names);
      throw new UsageError(`unknown command '${name}' (${near !== undefined ? `did you mean '${near}'?; ` : ''}commands: ${names.join(', ')})`);
    }
    return await command.run(rest);
  } catch (e) {
    io.err(`${errorLine(e, debug)}\n`);
    return exitCodeOf(e);
  }
}

/** True when this module is the program (not imported, e.g. by tests). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * Ends the process on SIGINT / SIGTERM (exit 130 / 143, as a shell reports them) after removing
 * the temporary files being written, so that an interrupted run leaves only whole files behind
 * (`--resume` continues from its last complete checkpoint). Installed by the program only.
 */
export function installSignalHandlers(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      removePendingTemporaryFilesSync();
      io.err(`boundary-seg: stopped by ${signal} (train and experiment runs continue with --resume)\n`);
      process.exit(code);
    });
  }
}

if (isEntryPoint()) {
  installSignalHandlers();
  process.exitCode = await main(process.argv.slice(2));
  await closeBackends();
}
