/**
 * Bundling for a browser with esbuild (`platform: 'browser'`, the `browser` condition), reporting
 * every import of a Node module (`node:fs`, `fs`, `worker_threads`, …) with the chain of importers
 * that reaches it, for the tests of the browser entry points and of the packed package.
 */
import assert from 'node:assert/strict';
import { isBuiltin } from 'node:module';
import { relative } from 'node:path';
import { build, type BuildOptions, type Message, type Metafile, type Plugin } from 'esbuild';

/** Node's modules as an import names them: `node:fs`, `fs`, `fs/promises`, `worker_threads`, … */
export const isNodeModule = (path: string): boolean => path.startsWith('node:') || isBuiltin(path);

export interface BrowserBundle {
  /** The bundle's code. */
  readonly code: string;
  readonly metafile: Metafile;
  /**
   * The imports of Node modules that esbuild could not resolve for a browser (no `browser` field
   * maps them away), each with its importer (relative to the working directory, as the metafile
   * names inputs): the bundle keeps them external.
   */
  readonly nodeImports: readonly { readonly importer: string; readonly path: string }[];
  readonly warnings: readonly Message[];
}

/**
 * Bundles for a browser from `absWorkingDir` (ESM, `conditions: ['browser']`, `write: false`,
 * `metafile: true`; `options` adds to or replaces these). A Node module esbuild cannot resolve for
 * the browser platform is kept external and recorded (every one, not the first error only); any
 * other esbuild error fails the test with esbuild's messages.
 */
export async function bundleForBrowser(absWorkingDir: string, options: BuildOptions): Promise<BrowserBundle> {
  const nodeImports: { importer: string; path: string }[] = [];
  const recordNode: Plugin = {
    name: 'record-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (!isNodeModule(args.path) || (args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { inner: true } });
        if (resolved.errors.length === 0) return resolved;
        nodeImports.push({ importer: relative(absWorkingDir, args.importer), path: args.path });
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    absWorkingDir, bundle: true, platform: 'browser', format: 'esm', write: false, conditions: ['browser'],
    logLevel: 'silent', metafile: true, ...options, plugins: [recordNode, ...(options.plugins ?? [])],
  }).catch((e: unknown) => {
    const errors = (e as { errors?: Message[] }).errors ?? [];
    return assert.fail(`esbuild failed:\n${errors.map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`).join('\n') || String(e)}`);
  });
  return { code: result.outputFiles![0]!.text, metafile: result.metafile!, nodeImports, warnings: result.warnings };
}

/** The shortest chain of importers from `entry` to `file` in a bundle's metafile: `[entry, …, file]`. */
export function importerChain(metafile: Metafile, entry: string, file: string): string[] {
  const previous = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  while (queue.length > 0) {
    const at = queue.shift()!;
    if (at === file) break;
    for (const imp of metafile.inputs[at]?.imports ?? []) {
      if (imp.external || previous.has(imp.path)) continue;
      previous.set(imp.path, at);
      queue.push(imp.path);
    }
  }
  if (!previous.has(file)) return [file];
  const chain: string[] = [];
  for (let at: string | undefined = file; at !== undefined; at = previous.get(at)) chain.unshift(at);
  return chain;
}

/** Each Node import of a bundle as `entry → … → importer → module`. */
export function nodeImportChains(b: BrowserBundle, entry: string): string[] {
  return b.nodeImports.map(({ importer, path }) => `${importerChain(b.metafile, entry, importer).join(' → ')} → ${path}`);
}
