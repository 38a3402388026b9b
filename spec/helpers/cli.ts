/** The command line run in-process, for CLI tests. */
import { setIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';

/** Runs the CLI in-process, capturing what it writes; resolves with the exit code and the output. */
export async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const previous = setIo({ out: (s) => void (stdout += s), err: (s) => void (stderr += s), errIsTty: () => false });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    setIo(previous);
  }
}
