/**
 * The gpu.js backend (`gpujs`, options `{ mode }`): every primitive compiled by gpu.js to a
 * WebGPU, WebGL (headless-gl), WebAssembly or JavaScript kernel. Results stay on the device
 * between operations; reads are asynchronous; dispatch is synchronous even on WebGPU, whose
 * kernels return Promises (see `buffers.ts`). This is the Node backend; `browser.ts` is its
 * counterpart in a page, over the same kernels (`instance.ts`).
 */
import { assembleGpujsBackend, decodeMode, type GpujsBackend, type GpujsInternals } from './instance.js';
import { openRuntime, resolveMode } from './runtime.js';
import { GPUJS_MODES } from './settings.js';

export type { GpujsBackend, GpujsInternals, GpujsStats } from './instance.js';

/** Creates the backend (awaits a WebGPU adapter in `auto` and `webgpu` modes). */
export async function createGpujsBackend(options: Readonly<Record<string, unknown>> = {}, internals: GpujsInternals = {}): Promise<GpujsBackend> {
  const asked = decodeMode(options, GPUJS_MODES);
  const { mode, reasons } = await resolveMode(asked);
  const rt = await openRuntime(mode);
  return assembleGpujsBackend(rt, mode, reasons, internals);
}
