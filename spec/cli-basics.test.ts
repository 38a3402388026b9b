/**
 * The command line's basics: `--version`, "did you mean" for a mistyped command or flag, and
 * `backends` (which backends start here; one that cannot is reported, never thrown).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import '../backends/register.js';
import { defaultBackendName, getBackend } from '../core/backend.js';
import { backendChoices, backendsCommand, formatProbes, probeBackend, type BackendProbe, type BackendStarter } from '../cli/commands/backends.js';
import { setIo } from '../cli/io.js';
import { mainHelp, packageVersion } from '../cli/main.js';
import { suggestName } from '../cli/suggest.js';
import { cli } from './helpers/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs `fn` with the CLI's output captured. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const previous = setIo({ out: (s) => void (stdout += s), err: (s) => void (stderr += s), errIsTty: () => false });
  try {
    return { code: await fn(), stdout, stderr };
  } finally {
    setIo(previous);
  }
}

/** A starter that fails for `failing` choices and starts a described stand-in otherwise. */
const stubStarter = (failing: (choice: string) => boolean, message = 'no such device\n  (second line)'): BackendStarter => async (choice) => {
  if (failing(choice)) throw new Error(message);
  return { describe: async () => ({ name: choice, mode: 'stub', precision: 'float32' }), close: async () => undefined };
};

describe('--version', () => {
  test('prints the package version and the Node version, exit 0 (and -V)', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      assert.equal(r.code, 0, flag);
      assert.equal(r.stdout, `boundary-seg ${pkg.version}\nnode ${process.version}\n`, flag);
      assert.equal(r.stderr, '');
    }
  });

  test('the main help mentions it', () => {
    assert.match(mainHelp(), /--version/);
    assert.match(mainHelp(), /\bbackends\b/);
  });

  const root = mkdtempSync(join(tmpdir(), 'bseg-cli-basics-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('found from the sources (cli/) and the build (dist/cli/) alike', () => {
    assert.equal(packageVersion(new URL('../cli/main.ts', import.meta.url).href), pkg.version);
    assert.equal(packageVersion(new URL('../dist/cli/main.js', import.meta.url).href), pkg.version);
  });

  test('the first package.json named boundary-seg, passing over others; none found is an error', () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'boundary-seg', version: '9.8.7' }));
    mkdirSync(join(root, 'other', 'dist', 'cli'), { recursive: true });
    writeFileSync(join(root, 'other', 'package.json'), JSON.stringify({ name: 'something-else', version: '1.0.0' }));
    writeFileSync(join(root, 'other', 'dist', 'package.json'), '{ not json');
    assert.equal(packageVersion(pathToFileURL(join(root, 'other', 'dist', 'cli', 'main.js')).href), '9.8.7');
    rmSync(join(root, 'package.json'));
    assert.throws(() => packageVersion(pathToFileURL(join(root, 'other', 'dist', 'cli', 'main.js')).href), /no package\.json of boundary-seg/);
  });
});

describe('did you mean', () => {
  test('a mistyped command names the nearest one, exit 2, one line', async () => {
    const r = await cli(['trian']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^boundary-seg: error: unknown command 'trian' \(did you mean 'train'\?; commands: train, eval, predict, experiment, distmap, backends\)\n$/);
    assert.match((await cli(['backend'])).stderr, /did you mean 'backends'\?/);
    assert.match((await cli(['--verison'])).stderr, /did you mean '--version'\?/);
  });

  test('a mistyped flag names the nearest flag of that command, exit 2, one line', async () => {
    const r = await cli(['train', '--synthetic', '--epoch', '3']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'boundary-seg: error: unknown flag --epoch (did you mean --epochs?; see --help)\n');
    assert.match((await cli(['backends', '--jsn'])).stderr, /unknown flag --jsn \(did you mean --json\?; see --help\)/);
    assert.match((await cli(['eval', '--checkpoit=x'])).stderr, /did you mean --checkpoint\?/);
  });

  test("another command's flag says which commands take it; a mistyped value names the nearest value", async () => {
    const e = await cli(['eval', '--seed', '3']);
    assert.equal(e.code, 2);
    assert.equal(e.stderr, 'boundary-seg: error: --seed does not apply to eval (it is a flag of train, experiment; see --help)\n');
    assert.match((await cli(['predict', '--epochs', '3'])).stderr, /--epochs does not apply to predict \(it is a flag of train, experiment; see --help\)/);
    assert.match((await cli(['distmap', '--augment', 'flip'])).stderr, /--augment does not apply to distmap \(it is a flag of train, experiment;/);
    const v = await cli(['train', '--synthetic', '--augment', 'flp']);
    assert.equal(v.code, 2);
    assert.match(v.stderr, /--augment: expected one of none, flip, rot90, affine, intensity, gamma, noise, got "flp" \(did you mean flip\?\)\n$/);
  });

  test('no suggestion for a far-off word', async () => {
    const c = await cli(['banana']);
    assert.equal(c.code, 2);
    assert.equal(c.stderr, "boundary-seg: error: unknown command 'banana' (commands: train, eval, predict, experiment, distmap, backends)\n");
    const f = await cli(['distmap', '--zebra', '1']);
    assert.equal(f.code, 2);
    assert.equal(f.stderr, 'boundary-seg: error: unknown flag --zebra (see --help)\n');
  });

  test('suggestName: within 2 edits, else a unique prefix, else nothing', () => {
    assert.equal(suggestName('trian', ['train', 'eval']), 'train');
    assert.equal(suggestName('EPOCH', ['epochs', 'seed']), 'epochs');
    assert.equal(suggestName('learn', ['learning-rate', 'lr-rule']), 'learning-rate');
    assert.equal(suggestName('synth', ['synthetic', 'synthetic-set']), undefined, 'a prefix of two names');
    assert.equal(suggestName('abcdef', ['train', 'eval']), undefined);
    assert.equal(suggestName('', ['train']), undefined);
    assert.equal(suggestName('x', []), undefined);
  });
});

describe('backends', () => {
  let text: { code: number; stdout: string; stderr: string } | undefined;
  const run = async () => (text ??= await cli(['backends']));

  test('lists wasm and cpu as ok and marks exactly one default; exit 0', async () => {
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('BOUNDARY_SEG_BACKEND='));
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), backendChoices());
    assert.ok(backendChoices().includes('gpujs:webgpu') && backendChoices().includes('gpujs:headlessgl'));
    assert.match(r.stdout, /^wasm\b.*\bok: /m);
    assert.match(r.stdout, /^cpu\s+ok: .*float32/m);
    assert.match(r.stdout, /^cpu64\s+ok: .*float64/m);
    for (const l of lines) assert.match(l, /^\S+( \(default\))?\s+(ok: \S|unavailable: \S)/, l);
    const defaults = lines.filter((l) => l.includes('(default)'));
    assert.equal(defaults.length, 1);
    assert.ok(defaults[0]!.startsWith(`${defaultBackendName()} (default)`));
    assert.equal(getBackend().name, defaultBackendName(), 'the default backend is selected again');
  });

  test('--json is an array of probes matching the text', async () => {
    const r = await cli(['backends', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const probes = JSON.parse(r.stdout) as BackendProbe[];
    assert.ok(Array.isArray(probes));
    assert.deepEqual(probes.map((p) => p.backend), backendChoices());
    assert.deepEqual(probes.filter((p) => p.default).map((p) => p.backend), [defaultBackendName()]);
    for (const name of ['wasm', 'cpu']) {
      const p = probes.find((q) => q.backend === name);
      assert.equal(p?.ok, true, name);
      assert.equal(p?.description?.name, name);
    }
    for (const p of probes) assert.ok(p.ok ? p.description !== undefined && p.reason === undefined : typeof p.reason === 'string' && p.reason !== '' && !p.reason.includes('\n'), p.backend);
    // the text shows the same outcome per backend
    const lines = (await run()).stdout;
    for (const p of probes) assert.match(lines, new RegExp(`^${p.backend}( \\(default\\))?\\s+${p.ok ? 'ok' : 'unavailable'}: `, 'm'));
  });

  test('--help', async () => {
    const r = await cli(['backends', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^boundary-seg backends: /);
    assert.match(r.stdout, /--json/);
  });

  test('a backend that fails to start is reported in one line, not thrown', async () => {
    const p = await probeBackend('gpujs:webgpu', false, stubStarter(() => true, 'setBackend: options.mode: webgpu: no adapter\n   (no Vulkan driver)'));
    assert.deepEqual(p, { backend: 'gpujs:webgpu', default: false, ok: false, reason: 'no adapter (no Vulkan driver)' });
    const text = formatProbes([{ backend: 'wasm', default: true, ok: true, description: { name: 'wasm', mode: '2 threads', precision: 'float32' } }, p], undefined);
    assert.equal(text, 'wasm (default)  ok: mode 2 threads; float32\ngpujs:webgpu    unavailable: no adapter (no Vulkan driver)\n');
    assert.match(formatProbes([p], 'cpu'), /\nBOUNDARY_SEG_BACKEND=cpu: the commands use this instead of the default\n$/);
  });

  test('a backend that does not start in time is reported, and closed when it starts late', async () => {
    let closed = false;
    let release: () => void = () => undefined;
    const late: BackendStarter = () => new Promise((resolve) => {
      release = () => resolve({ describe: async () => ({ name: 'late' }), close: async () => void (closed = true) });
    });
    const p = await probeBackend('gpujs:headlessgl', false, late, 20);
    assert.equal(p.ok, false);
    assert.match(p.reason ?? '', /did not start within 0\.02 s/);
    release();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(closed, true);
  });

  test('missing gpu.js modes do not change the exit code; a failing default exits 1', async () => {
    const gpuFails = await captured(() => backendsCommand(['--debug'], stubStarter((c) => c.startsWith('gpujs:'))));
    assert.equal(gpuFails.code, 0);
    assert.match(gpuFails.stdout, /^gpujs:cpu\s+unavailable: no such device \(second line\)$/m);
    assert.match(gpuFails.stderr, /boundary-seg: gpujs:cpu: Error: no such device/, '--debug prints the stacks');
    const quiet = await captured(() => backendsCommand([], stubStarter((c) => c.startsWith('gpujs:'))));
    assert.equal(quiet.stderr, '', 'no stacks without --debug');

    const defaultFails = await captured(() => backendsCommand(['--json'], stubStarter((c) => c === defaultBackendName())));
    assert.equal(defaultFails.code, 1);
    assert.equal((JSON.parse(defaultFails.stdout) as BackendProbe[]).find((p) => p.default)?.ok, false);
    assert.match(defaultFails.stderr, /the default backend '\w+' cannot start/);
  });
});
