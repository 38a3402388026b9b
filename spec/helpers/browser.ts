/**
 * Debian's Chromium, headless, for the browser tests: driven by `playwright-core`, which downloads
 * no browser (the package `chromium`, /usr/bin/chromium, is installed by `.ci/run`). Also where
 * the tests keep their artefacts (screenshots).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The browser to run: `$BOUNDARY_SEG_CHROMIUM` when set (another build or distribution), else {@link CHROMIUM_PATH}. */
export function chromiumPath(): string {
  const env = process.env['BOUNDARY_SEG_CHROMIUM'];
  return env !== undefined && env !== '' ? env : CHROMIUM_PATH;
}

/**
 * Launch flags besides playwright's own (which already include `--headless`, `--no-sandbox`, a fresh
 * temporary `--user-data-dir`, `--no-first-run`, `--disable-sync`, `--disable-background-networking`,
 * `--disable-component-update` and `--enable-unsafe-swiftshader`; they are repeated here so that the
 * list reads whole). No GPU is used: WebGL runs on ANGLE's SwiftShader (the CPU), and WebGPU on
 * SwiftShader's Vulkan once `--enable-unsafe-webgpu` lets a page ask for an adapter. No X display is
 * needed.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-unsafe-webgpu',
];

/** True when the test run is a CI run (`CI=true` or `CI=1`): a missing browser fails instead of skipping. */
export const inCi = (): boolean => process.env['CI'] === 'true' || process.env['CI'] === '1';

/** Why Chromium cannot run here (a sentence), or undefined when {@link chromiumPath} is executable. */
export function chromiumProblem(): string | undefined {
  const path = chromiumPath();
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `${path} is missing or not executable (apt-get install chromium)`;
  }
}

/** Launches headless Chromium from {@link chromiumPath} with {@link CHROMIUM_ARGS} (30 s to start). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

/**
 * The folder for test artefacts, created if needed: `$BOUNDARY_SEG_ARTEFACTS` when set, else
 * `spec/artefacts/` (git-ignored).
 */
export function artefactsDir(): string {
  const env = process.env['BOUNDARY_SEG_ARTEFACTS'];
  const dir = env !== undefined && env !== '' ? env : join(new URL('..', import.meta.url).pathname, 'artefacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}
