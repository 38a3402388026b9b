/**
 * The train panel's Web Worker (a module worker, bundled to `train-worker.js`): trains one setting
 * with `trainSetting` and posts what it reports (see `WorkerRequest` / `WorkerReply` in
 * `train-run.ts`). The backend is chosen by the start message: `auto` is `wasm` with one thread
 * (each worker has a core of its own), else `cpu`; the `ready` message says which one runs.
 * A `stop` message ends the run after the epoch under way (the worker yields to its event loop
 * between epochs to read it).
 */
import { selectTrainBackend, trainSetting, type TrainSetting, type WorkerReply, type WorkerRequest } from './train-run.js';

/** What this file uses of a dedicated worker's global scope (the page is typechecked with the DOM library, not the worker's). */
interface WorkerScope {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  postMessage(message: WorkerReply, transfer?: ArrayBuffer[]): void;
}

const scope = globalThis as unknown as WorkerScope;
let started = false;
let stopRequested = false;

function post(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  scope.postMessage(message, transfer);
}

/** A macrotask's pause, so that a `stop` message queued during an epoch is handled before the next. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function run(request: Extract<WorkerRequest, { type: 'start' }>): Promise<void> {
  let setting: TrainSetting | undefined;
  try {
    setting = request.setting;
    const { fallback } = await selectTrainBackend(request.backend);
    const summary = await trainSetting(
      { setting: request.setting, epochs: request.epochs, seed: request.seed, ...(request.schedule !== undefined ? { schedule: request.schedule } : {}) },
      async (message) => {
        post(message, message.overlays.map((o) => o.buffer as ArrayBuffer));
        await yieldToEvents();
        return stopRequested ? 'stop' : undefined;
      },
      (ready) => post(fallback !== undefined ? { ...ready, fallback } : ready, ready.slices.flatMap((s) => [s.image.buffer as ArrayBuffer, s.label.buffer as ArrayBuffer])),
    );
    post(summary);
  } catch (e) {
    post({ type: 'error', ...(setting !== undefined ? { setting } : {}), message: e instanceof Error ? e.message : String(e) });
  }
}

scope.onmessage = (event) => {
  const request = event.data as WorkerRequest | null;
  if (request?.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (request?.type !== 'start') {
    post({ type: 'error', message: `train worker: expected a message { type: 'start' | 'stop' }, got ${JSON.stringify(request)}` });
    return;
  }
  if (started) {
    post({ type: 'error', setting: request.setting, message: 'train worker: a run was started already (one run per worker: start a new worker)' });
    return;
  }
  started = true;
  void run(request);
};
