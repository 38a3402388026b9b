/**
 * Every `@example` in the sources' JSDoc is a complete program: it imports what it uses from
 * `boundary-seg`, typechecks and runs. Each is written to a temporary module that imports the
 * package root from these sources, and imported (its `console` output silenced).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const SOURCE_DIRS = ['core', 'backends', 'losses', 'metrics', 'models', 'data', 'cli'];

/** The files under `dir` whose names `keep` accepts (folders named `node_modules` or starting with `.` skipped). */
function listFiles(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return listFiles(path, keep);
    return keep(name) ? [path] : [];
  });
}

/** The `@example` blocks of a file: the JSDoc lines after the tag, up to the next tag or the end of the comment. */
export function jsdocExamples(text: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\* @example\s*$/.test(lines[i]!)) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (/^\s*\*\//.test(l) || /^\s*\* @\w/.test(l)) break;
      body.push(l.replace(/^\s*\* ?/, ''));
    }
    out.push({ line: i + 1, code: body.join('\n').trim() });
    i = j - 1;
  }
  return out;
}

const examples = SOURCE_DIRS.flatMap((d) => listFiles(join(root, d), (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))).flatMap((file) =>
  jsdocExamples(readFileSync(file, 'utf8')).map((e) => ({ ...e, where: `${relative(root, file)}:${e.line}` })));

const tmp = mkdtempSync(join(tmpdir(), 'boundary-seg-doc-examples-'));
const index = join(root, 'index.ts');
const files = examples.map((e, i) => {
  const file = join(tmp, `example-${i}.mts`);
  writeFileSync(file, `// ${e.where}\n${e.code.replaceAll("from 'boundary-seg'", `from '${index}'`)}\nexport {};\n`);
  return file;
});

describe('the @example blocks of the JSDoc', () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('the main exports have one', () => {
    const names = examples.map((e) => e.code).join('\n');
    for (const name of ['signedDistanceMaps', 'boundaryLoss', 'generalizedDiceLoss', 'dice', 'hausdorff95', 'valueAndGrad', 'jit', 'setBackend', 'unet', 'syntheticWmh', 'train', 'rebalance']) {
      assert.match(names, new RegExp(`import \\{[^}]*\\b${name}\\b[^}]*\\} from 'boundary-seg'`), `an @example imports ${name}`);
    }
    for (const e of examples) assert.match(e.code, /from 'boundary-seg'/, `${e.where}: the example imports from 'boundary-seg'`);
  });

  test('they typecheck (strict)', () => {
    const config = join(tmp, 'tsconfig.json');
    writeFileSync(config, JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { noEmit: true, allowImportingTsExtensions: true, typeRoots: [join(root, 'node_modules/@types')] },
      include: [], files: files.map((f) => relative(tmp, f)),
    }));
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { encoding: 'utf8', cwd: tmp });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });

  test('no source, doc, example or test cites a design document that is not in the repository', () => {
    const dirs = [...SOURCE_DIRS, 'spec', 'bench', 'docs', 'examples'];
    const files = [...dirs.flatMap((d) => listFiles(join(root, d), (name) => /\.(ts|mts|mjs|js|md|sh)$/.test(name))), join(root, 'README.md'), join(root, 'CHANGELOG.md')];
    const cited = /\b(?:DESIGN|API|REFERENCE)(?:\.md)? ?§|\b(?:DESIGN|REFERENCE)\.md\b/;
    const hits = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((l, i) => (cited.test(l) && !l.includes('cited.test') && !l.includes('const cited') ? [`${relative(root, f)}:${i + 1}: ${l.trim()}`] : [])));
    assert.deepEqual(hits, []);
  });

  for (const [i, e] of examples.entries()) {
    test(`${e.where} runs`, async () => {
      const log = console.log;
      console.log = () => {};
      try {
        await import(pathToFileURL(files[i]!).href);
      } finally {
        console.log = log;
      }
    });
  }
});

// Keep the temporary folder out of the way of a crashed run too.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
