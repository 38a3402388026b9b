/**
 * A child process for the signal tests (`spec/hardening-cli.test.ts`): installs the command line's
 * SIGINT/SIGTERM handlers, starts an atomic write whose temporary file is half written and never
 * finishes, prints `writing <temporary path>` and waits for a signal.
 *
 * usage: node --import tsx spec/helpers/signal-child.ts DIR
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installSignalHandlers } from '../../cli/main.js';
import { nodeFileSystem, setFileSystem, writeFileAtomic } from '../../core/files.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: signal-child.ts DIR');
setFileSystem({
  ...nodeFileSystem,
  async writeAndSync(path, bytes) {
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
    process.stdout.write(`writing ${path}\n`);
    await new Promise<never>(() => undefined); // a write that never ends
  },
});
installSignalHandlers();
void writeFileAtomic(join(dir, 'last.ckpt'), new Uint8Array(4096));
setInterval(() => undefined, 1000);
