/**
 * The gpu.js runtime of one backend instance in Node: loads gpu.js (and, for WebGPU,
 * `navigator.gpu` from the pinned `webgpu@0.4.0`), probes headless GL and Dawn, resolves the
 * mode, and opens the runtime (`runtime-shared.ts`, shared with the browser's `browser.ts`).
 * Only this file, `runtime-shared.ts`, `browser.ts` and `kernels.ts` talk to gpu.js; the settings
 * come from `settings.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BackendError } from '../../core/errors.js';
import { describeWebGpuAdapter, GPUJS_VERSION, runtimeOn, WEBGPU_VERSION, type GlContext, type GpujsGpu, type Runtime, type RuntimeInfo, type WebGpuAdapter, type WebGpuAdapterInfo, type WebGpuContext, type WebGpuContextClass } from './runtime-shared.js';
import { ADAPTER_OPTIONS, DAWN_FLAGS, GPUJS_MODES, OPTIONAL_DEVICE_FEATURES, SOFTWARE_RENDERERS, type GpujsMode, type GpujsRunMode } from './settings.js';

export { GPUJS_VERSION, kernelSettings, WEBGPU_VERSION } from './runtime-shared.js';
export type { DeviceResult, GpujsGpu, GpujsKernel, GpujsKernelObject, Runtime, RuntimeInfo } from './runtime-shared.js';

const require = createRequire(import.meta.url);

/** The parts of gpu.js's Node build this file uses. */
interface GpujsModule {
  readonly GPU: new (settings: { mode: string }) => GpujsGpu;
  readonly HeadlessGLKernel: { readonly isSupported: boolean; readonly testContext: GlContext | null };
  readonly WebAssemblyKernel: { readonly isSupported: boolean; readonly isSIMDSupported?: boolean };
  readonly WebGPUContext: WebGpuContextClass;
}

let gpujsModule: GpujsModule | undefined;

/** Whether `e` says that `name` itself (not something it needs) is not installed. */
function isMissingPackage(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code === 'MODULE_NOT_FOUND' || err?.code === 'ERR_MODULE_NOT_FOUND') && new RegExp(`['"]${name.replace('.', '\\.')}['"]`).test(err.message);
}

/**
 * gpu.js, loaded on first use (it loads the optional `gl` build as it starts). gpu.js is an
 * optional peer dependency of the package: without it, a BackendError says what to install.
 */
export function loadGpujs(): GpujsModule {
  if (gpujsModule) return gpujsModule;
  try {
    gpujsModule = require('gpu.js') as GpujsModule;
  } catch (e) {
    if (!isMissingPackage(e, 'gpu.js')) throw e;
    throw new BackendError('setBackend', 'name', `the gpujs backend needs the gpu.js package, which is not installed: run \`npm install gpu.js@${GPUJS_VERSION}\` (and \`npm install webgpu@${WEBGPU_VERSION}\` for WebGPU)`);
  }
  return gpujsModule;
}

// ---------------------------------------------------------------------------------------------
// Probes

/** Why headless GL cannot run here, or `undefined` when it can. */
export function headlessGlProblem(): string | undefined {
  try {
    require.resolve('gl');
    require('gl');
  } catch (e) {
    return `the optional dependency gl@8.1.6 is not built (${(e as Error).message.split('\n')[0]}): ` +
      'install libxi-dev libxext-dev libx11-dev libglu1-mesa-dev pkg-config, then `npm ci` (or `npm rebuild gl`)';
  }
  if (!loadGpujs().HeadlessGLKernel.isSupported) {
    return `gl@8.1.6 is built but no GL context could be created${process.env['DISPLAY'] ? ` on DISPLAY=${process.env['DISPLAY']}` : ' (no DISPLAY: run under `xvfb-run -a`)'}`;
  }
  return undefined;
}

/**
 * The GL renderer behind headless-gl. headless-gl reports only "ANGLE" and lacks
 * WEBGL_debug_renderer_info, so the driver is read from the libraries loaded into this process.
 */
export function glRenderer(): { renderer: string; software: boolean } {
  const ctx = loadGpujs().HeadlessGLKernel.testContext;
  const reported = ctx ? `${String(ctx.getParameter(ctx.RENDERER))} (${String(ctx.getParameter(ctx.VERSION))})` : 'unknown';
  let libs: string[] = [];
  try {
    libs = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '').filter((p) => /_dri\.so|libgallium|libGLX_|libEGL_|nvidia-glcore|nvidia-eglcore/i.test(p)))];
  } catch {
    // not Linux: only the reported name is known
  }
  const names = libs.map((p) => p.split('/').pop()!);
  const forced = process.env['LIBGL_ALWAYS_SOFTWARE'] === '1' || process.env['LIBGL_ALWAYS_SOFTWARE'] === 'true';
  const hardware = names.some((n) => /nvidia|radeonsi|iris|i965|amdgpu|nouveau|crocus|zink/i.test(n));
  const softwareLib = names.some((n) => /swrast|llvmpipe|softpipe|swiftshader/i.test(n));
  const gallium = process.env['GALLIUM_DRIVER'];
  const driver = names.length > 0 ? names.join(', ') : 'driver unknown';
  const renderer = `${reported} on ${driver}${softwareLib ? ` (Mesa ${gallium ?? 'llvmpipe'})` : ''}`;
  // NOTE: a renderer that cannot be shown to be hardware counts as software: it must never pass
  // as a GPU run.
  const software = forced || softwareLib || SOFTWARE_RENDERERS.test(reported) || !hardware;
  return { renderer, software };
}

interface WebGpuProbe {
  readonly adapter: WebGpuAdapter | null;
  readonly problem?: string;
  /** Dawn was not started: there is no Vulkan loader. */
  readonly noLoader?: boolean;
}

/** The Vulkan loader Dawn opens on Linux. */
const VULKAN_LOADER = 'libvulkan.so.1';

/**
 * Whether the Vulkan loader (`libvulkan.so.1`), which Dawn needs for WebGPU, can be found on this
 * Linux machine: in `LD_LIBRARY_PATH`, the usual library folders or the loader's cache. Other
 * platforms answer true (Dawn then decides). Without it Dawn prints its own multi-line warning
 * ("Couldn't load Vulkan") on stderr before failing, so the backend does not start Dawn at all:
 * `webgpu` mode is refused and `auto` passes over WebGPU, saying why in `autoReasons`.
 */
export function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' }[process.arch as string] ?? '';
  const dirs = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== ''), '/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib', `/lib/${triplet}`, `/usr/lib/${triplet}`];
  if (dirs.some((d) => existsSync(join(d, VULKAN_LOADER)))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes(VULKAN_LOADER);
  } catch {
    return false;
  }
}

let navigatorInstalled = false;

/** The parts of Dawn's `GPU` and `GPUAdapter` the wrapper below touches. */
interface DawnGpu {
  requestAdapter(o?: object): Promise<DawnAdapter | null>;
}
interface DawnAdapter {
  readonly features: { has(f: string): boolean };
  requestDevice(d?: { requiredFeatures?: string[] } & Record<string, unknown>): Promise<unknown>;
}

/**
 * `navigator.gpu` whose adapters ask for the optional features the backend can use
 * (`OPTIONAL_DEVICE_FEATURES`: `timestamp-query`, for GPU timing) where they have them: gpu.js
 * creates its one device itself and asks for none. Every other member is Dawn's own.
 */
function withOptionalFeatures(gpu: DawnGpu): DawnGpu {
  // Dawn's methods need their own object as `this`, not the proxy
  const member = (target: object, key: string | symbol): unknown => {
    const v = Reflect.get(target, key, target) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  };
  const adapterWith = (a: DawnAdapter): DawnAdapter =>
    new Proxy(a, {
      get(target, key) {
        if (key === 'requestDevice') {
          return (d: Parameters<DawnAdapter['requestDevice']>[0] = {}) => {
            const wanted = OPTIONAL_DEVICE_FEATURES.filter((f) => target.features.has(f) && !(d.requiredFeatures ?? []).includes(f));
            return target.requestDevice({ ...d, requiredFeatures: [...(d.requiredFeatures ?? []), ...wanted] });
          };
        }
        return member(target, key);
      },
    });
  return new Proxy(gpu, {
    get(target, key) {
      if (key === 'requestAdapter') return async (o?: object) => {
        const a = await target.requestAdapter(o);
        return a ? adapterWith(a) : a;
      };
      return member(target, key);
    },
  });
}

/**
 * Defines `navigator.gpu` from the pinned `webgpu@0.4.0` (Dawn) before any gpu.js WebGPU kernel
 * exists. gpu.js's own nested webgpu@0.2.9 is never loaded (npm override).
 */
async function installNavigatorGpu(): Promise<string | undefined> {
  if (navigatorInstalled) return undefined;
  let dawn: { create(flags: readonly string[]): unknown; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    if (isMissingPackage(e, 'webgpu')) return `the webgpu package (Dawn) is not installed: run \`npm install webgpu@${WEBGPU_VERSION}\``;
    return `webgpu@${WEBGPU_VERSION} (Dawn) did not load: ${(e as Error).message.split('\n')[0]}`;
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  const gpu = withOptionalFeatures(dawn.create(DAWN_FLAGS) as DawnGpu);
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  navigatorInstalled = true;
  return undefined;
}

/** Open WebGPU runtimes: they share gpu.js's one device (`WebGPUContext`). */
let webGpuUsers = 0;

/**
 * Drops `navigator.gpu` and the WebGPU device once no runtime uses them: Dawn keeps Node alive
 * while either is referenced.
 */
export async function releaseWebGpu(): Promise<void> {
  if (!navigatorInstalled || webGpuUsers > 0) return;
  await loadGpujs().WebGPUContext.destroy();
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator) delete g.navigator.gpu;
  navigatorInstalled = false;
}

/** Asks Dawn for an adapter; without a Vulkan loader, answers without starting Dawn. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  if (!navigatorInstalled && !vulkanLoaderPresent()) {
    return { adapter: null, noLoader: true, problem: `no WebGPU adapter: this machine has no Vulkan loader (${VULKAN_LOADER}), which WebGPU needs` };
  }
  const problem = await installNavigatorGpu();
  if (problem) return { adapter: null, problem };
  const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(o: object): Promise<WebGpuAdapter | null> } } }).navigator.gpu;
  const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  if (!adapter) {
    await releaseWebGpu();
    return { adapter: null, problem: 'no WebGPU adapter answered (Dawn found no Vulkan device; on a CPU-only machine, bench/device/lavapipe.sh provides a software Vulkan driver)' };
  }
  return { adapter };
}

/** Dawn's adapter described (`software` for the fallback adapter and software drivers). */
function describeAdapter(info: WebGpuAdapterInfo | undefined): { renderer: string; software: boolean } {
  return describeWebGpuAdapter(info, 'Dawn');
}

// ---------------------------------------------------------------------------------------------
// The runtime

/** Opens a runtime in an explicit mode. Throws a BackendError naming what is missing. */
export async function openRuntime(mode: GpujsRunMode): Promise<Runtime> {
  const gpujs = loadGpujs();
  let info: { renderer: string; software: boolean };
  let webgpu: WebGpuContext | undefined;
  switch (mode) {
    case 'cpu':
      info = { renderer: 'JavaScript (gpu.js CPUKernel)', software: true };
      break;
    case 'webasm':
      if (!gpujs.WebAssemblyKernel.isSupported) throw new BackendError('setBackend', 'options.mode', 'webasm: WebAssembly is not available in this runtime');
      info = { renderer: `WebAssembly${gpujs.WebAssemblyKernel.isSIMDSupported ? ' f32x4 SIMD' : ''} on the CPU`, software: true };
      break;
    case 'headlessgl': {
      const problem = headlessGlProblem();
      if (problem) throw new BackendError('setBackend', 'options.mode', `headlessgl: ${problem}`);
      info = glRenderer();
      break;
    }
    case 'webgpu': {
      const probe = await probeWebGpu();
      if (!probe.adapter) {
        const advice = probe.noLoader ? ` (install the GPU's Vulkan driver, or choose another mode: ${GPUJS_MODES.join(', ')})` : '';
        throw new BackendError('setBackend', 'options.mode', `webgpu: ${probe.problem}${advice}`);
      }
      // the device gpu.js's kernels share, acquired once now (and its adapter described)
      const ctx = await gpujs.WebGPUContext.acquire();
      info = describeAdapter(ctx.adapter.info);
      webgpu = ctx;
      webGpuUsers++;
      break;
    }
  }
  const gpu = new gpujs.GPU({ mode });
  const kernelClass = { cpu: 'CPUKernel', webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel', webgpu: 'WebGPUKernel' }[mode];
  const runtimeInfo: RuntimeInfo = { mode, kernelClass, ...info };
  if (mode !== 'webgpu') return runtimeOn(gpu, runtimeInfo);
  return runtimeOn(gpu, runtimeInfo, async () => {
    webGpuUsers--;
    await releaseWebGpu();
  }, webgpu);
}

/**
 * Resolves `auto`: a WebGPU adapter that is not software, else a GL context that is not
 * software, else `webasm`. Software renderers are never chosen. Without a Vulkan loader WebGPU is
 * passed over without starting Dawn (so nothing native is printed), the reason in `reasons`.
 */
export async function resolveMode(mode: GpujsMode): Promise<{ mode: GpujsRunMode; reasons: string[] }> {
  if (mode !== 'auto') return { mode, reasons: [] };
  const reasons: string[] = [];
  const probe = await probeWebGpu();
  if (probe.adapter) {
    const d = describeAdapter(probe.adapter.info);
    if (!d.software) return { mode: 'webgpu', reasons };
    reasons.push(`webgpu: ${d.renderer} is a software adapter`);
    await releaseWebGpu();
  } else reasons.push(`webgpu: ${probe.problem}`);
  const gl = headlessGlProblem();
  if (gl === undefined) {
    const r = glRenderer();
    if (!r.software) return { mode: 'headlessgl', reasons };
    reasons.push(`headlessgl: ${r.renderer} is a software renderer`);
  } else reasons.push(`headlessgl: ${gl}`);
  return { mode: 'webasm', reasons };
}
