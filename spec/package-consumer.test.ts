/**
 * The package as a user gets it: built from these sources, packed with `npm pack` (the files that
 * `package.json` lists), installed offline from the npm cache into a fresh project of its own, and
 * used there: the examples in `examples/` run, the README's library example typechecks under
 * strict NodeNext and runs, the `boundary-seg` binary starts, `require()` works, what the
 * install pulls in is only what the package needs (gpu.js, Dawn and the `gl` build are optional),
 * and bundled for a browser (the `browser` condition) it imports nothing from Node.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleForBrowser, nodeImportChains } from './helpers/bundle.js';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string; version: string; files: string[]; dependencies: Record<string, string>; peerDependencies: Record<string, string>; exports: Record<string, unknown>; sideEffects: string[];
};
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_loglevel: 'error' };

function run(cmd: string, args: readonly string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: npmEnv });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Total size of the files under `dir`, in bytes. */
function treeBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    n += st.isDirectory() ? treeBytes(p) : st.size;
  }
  return n;
}

/** The README's library example: the first ```ts block after "## Library example". */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf('## Library example');
  assert.ok(at >= 0, 'README.md has a "## Library example" section');
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, 'the library example is a ```ts block');
  return m[1]!;
}

/**
 * The lockfile of a project that depends on the packed package (`spec`, a `file:` tarball of
 * `integrity`) alone: the package's entry, and its production dependencies' entries (with their
 * own dependencies, transitively) copied from this repository's lockfile.
 */
function consumerLock(spec: string, integrity: string): unknown {
  type Entry = { version: string; dependencies?: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>; dev?: boolean; [k: string]: unknown };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Entry> };
  const self = lock.packages['']!;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version, resolved: spec, integrity, license: self['license'], dependencies: self.dependencies,
      peerDependencies: self.peerDependencies, peerDependenciesMeta: self.peerDependenciesMeta, bin: self['bin'], engines: self['engines'],
    },
  };
  const wanted = Object.keys(self.dependencies ?? {});
  while (wanted.length > 0) {
    const name = wanted.pop()!;
    const key = `node_modules/${name}`;
    if (key in packages) continue;
    const entry = lock.packages[key];
    assert.ok(entry, `the lockfile resolves ${name}`);
    const { dev: _dev, devOptional: _devOptional, ...kept } = entry;
    packages[key] = kept;
    const required = Object.keys(entry.peerDependencies ?? {}).filter((d) => !entry.peerDependenciesMeta?.[d]?.optional);
    wanted.push(...Object.keys(entry.dependencies ?? {}), ...required);
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

describe('the packed package in a fresh project', () => {
  let tmp = '';
  let consumer = '';
  let packed: { files: { path: string }[]; filename: string; integrity: string } | undefined;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'boundary-seg-consumer-'));
    const stage = join(tmp, 'package');
    mkdirSync(stage);
    // Build from the sources into the staging folder (the repository's own dist/ is left alone).
    ok(run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], root), 'tsc (build)');
    for (const entry of ['package.json', 'README.md', 'LICENSE', ...pkg.files.filter((f) => f !== 'dist')]) {
      cpSync(join(root, entry), join(stage, entry), { recursive: true });
    }
    const out = ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], stage), 'npm pack');
    packed = (JSON.parse(out) as typeof packed[])[0];
    consumer = join(tmp, 'consumer');
    mkdirSync(consumer);
    const spec = `file:../${packed!.filename}`;
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { [pkg.name]: spec } }, null, 2));
    // The npm cache holds the tarballs `npm ci` fetched, not the registry's metadata: the install
    // is pinned by a lockfile (the package's dependencies as this repository's lockfile resolves
    // them), as a project's own lockfile would pin it.
    writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(consumerLock(spec, packed!.integrity), null, 2));
    ok(run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], consumer, 300_000), 'npm ci --offline (the packed package)');
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the tarball holds the build, the docs and the examples, and no sources, specs or benchmarks', () => {
    const files = packed!.files.map((f) => f.path);
    for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'docs/architecture.md', 'examples/swap-backends.mjs']) {
      assert.ok(files.includes(required), `the package holds ${required}`);
    }
    assert.deepEqual(files.filter((f) => /^(spec|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), []);
    // Source maps carry their sources: they point at no file the package does not ship.
    const maps = files.filter((f) => f.endsWith('.js.map'));
    assert.ok(maps.length > 50);
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(consumer, 'node_modules', pkg.name, f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      assert.ok(map.sourcesContent && map.sourcesContent.length === map.sources.length && map.sourcesContent.every((s) => typeof s === 'string' && s.length > 0), `${f} embeds its sources`);
    }
    // Every module that registers the built-in backends is declared as having side effects: the
    // build's, which the package holds, and the sources' (for bundling this repository), each with its build's.
    for (const f of pkg.sideEffects.filter((e) => !e.endsWith('.ts'))) assert.ok(files.includes(f.replace(/^\.\//, '')), `sideEffects lists ${f}, which the package holds`);
    for (const f of pkg.sideEffects.filter((e) => e.endsWith('.ts'))) {
      const built = `./dist/${f.replace(/^\.\//, '').replace(/\.ts$/, '.js')}`;
      assert.ok(pkg.sideEffects.includes(built), `sideEffects lists the source ${f} and its build ${built}`);
    }
  });

  test('installing it pulls only its dependencies: gpu.js, Dawn and gl stay optional', () => {
    const modules = join(consumer, 'node_modules');
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(modules, dep)), `${dep} is installed`);
    for (const optional of [...Object.keys(pkg.peerDependencies), 'gl']) assert.ok(!existsSync(join(modules, optional)), `${optional} is not installed`);
    const mb = treeBytes(modules) / 1e6;
    console.log(`installed size: ${mb.toFixed(1)} MB in node_modules`);
    assert.ok(mb < 50, `the install is ${mb.toFixed(1)} MB`);
  });

  test('the examples run as written', () => {
    const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs')).sort();
    assert.ok(examples.length >= 3);
    for (const name of examples) {
      cpSync(join(root, 'examples', name), join(consumer, name));
      const out = ok(run(process.execPath, [name], consumer), `examples/${name}`);
      console.log(`examples/${name}:\n${out.trimEnd()}`);
      if (name === 'swap-backends.mjs') {
        assert.match(out, /^wasm +loss/m);
        assert.match(out, /gpujs +not available: .*npm install gpu\.js@2\.24\.1/);
      }
    }
  });

  test("the README's library example typechecks under strict NodeNext and runs", () => {
    writeFileSync(join(consumer, 'example.ts'), readmeExample());
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false,
        typeRoots: [join(root, 'node_modules/@types')], types: ['node'], outDir: 'out',
      },
      files: ['example.ts'],
    }, null, 2));
    ok(run(process.execPath, [tsc, '-p', consumer], consumer), 'tsc on the README example');
    const out = ok(run(process.execPath, [join('out', 'example.js')], consumer), 'the README example');
    assert.match(out, /^0\.666666/m);
  });

  test('bundled for a browser (the browser condition), the package and its subpaths import nothing from Node', async () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => `${pkg.name}${k.slice(1)}`);
    const contents = subpaths.map((s, i) => `import * as m${i} from '${s}';`).join('\n') + `\nglobalThis.lib = [${subpaths.map((_, i) => `m${i}`).join(', ')}];\n`;
    // NOTE: gpu.js is an optional peer, not installed here: the page's bundler leaves it out (external).
    const b = await bundleForBrowser(consumer, { stdin: { contents, resolveDir: consumer, sourcefile: 'page.js' }, external: ['gpu.js'] });
    const chains = nodeImportChains(b, 'page.js');
    assert.deepEqual(chains, [], `Node modules in the browser bundle of the installed package:\n${chains.join('\n')}`);
    const inputs = Object.keys(b.metafile.inputs);
    assert.ok(inputs.includes(`node_modules/${pkg.name}/dist/browser.js`), `the browser condition picks dist/browser.js: ${inputs.filter((f) => f.includes(pkg.name)).slice(0, 5).join(', ')}`);
    assert.ok(!inputs.some((f) => f.endsWith('/dist/backends/register.js') || f.endsWith('/dist/core/host-node.js')), 'no Node registration is bundled');
  });

  test('require() of the package, its package.json export, and the binary', () => {
    const cjs = ok(run(process.execPath, ['-e', "const b = require('boundary-seg'); const p = require('boundary-seg/package.json'); console.log(typeof b.boundaryLoss, p.version)"], consumer), 'require()');
    assert.equal(cjs.trim(), `function ${pkg.version}`);
    const bin = join(consumer, 'node_modules/.bin/boundary-seg');
    assert.match(ok(run(bin, ['--version'], consumer), 'boundary-seg --version'), new RegExp(`^boundary-seg ${pkg.version.replace(/\./g, '\\.')}`));
    const listed = JSON.parse(ok(run(bin, ['backends', '--json'], consumer), 'boundary-seg backends --json')) as { backend: string; ok: boolean; reason?: string }[];
    assert.ok(listed.find((b) => b.backend === 'wasm')?.ok);
    const gpujs = listed.filter((b) => b.backend.startsWith('gpujs'));
    assert.ok(gpujs.length > 0 && gpujs.every((b) => !b.ok && /npm install gpu\.js@2\.24\.1/.test(b.reason ?? '')), JSON.stringify(gpujs));
  });
});
