/**
 * The playground's train panel: GDL against GDL + boundary loss, trained live in the page. Two
 * module workers (`train-worker.js`, one per setting, so the runs share out two cores) train the
 * same small U-Net on the same synthetic unbalanced set with the same seed; after every epoch the
 * panel redraws the validation curves (DSC and lesion-slice DSC of both settings on one chart) and
 * the predictions on three fixed validation slices, and says which backend runs and the seconds
 * per epoch. When both runs end, one line compares their best validation DSCs, as measured.
 *
 * The panel's root carries `data-state` (`idle`, `running`, `stopping`, `done`, `error`) and
 * `data-epochs-done` (the epochs both settings have reported), for tests that drive the page.
 */
import { drawCurves, hex, OVERLAY_PALETTE, overlayRgba, PREDICTION_FILL_ALPHA, type Curve } from './charts.js';
import {
  BACKEND_CHOICES, compareSettings, MAX_EPOCHS, OVERLAY_SLICES, scheduleNote, settingLabel, TRAIN_DATA, TRAIN_MODEL, TRAIN_SCHEDULES, TRAIN_SETTINGS,
  type BackendChoice, type OverlaySlice, type SettingCurve, type TrainSchedule, type TrainSetting, type WorkerReply, type WorkerRequest,
} from './train-run.js';

/** Curve colours of the two settings (Okabe–Ito orange and sky blue, apart from the overlay colours). */
const SETTING_COLOURS: { readonly [S in TrainSetting]: string } = { 'gdl': '#E69F00', 'gdl+boundary': '#56B4E9' };
const BACKEND_LABELS: { readonly [B in BackendChoice]: string } = {
  auto: 'auto (wasm, 1 thread; else cpu)',
  wasm: 'wasm (1 thread)',
  cpu: 'cpu (plain JavaScript)',
  gpujs: 'gpujs (slow without a GPU)',
};
const OVERLAY_SCALE = 3;
const CHART_WIDTH = 640;
const CHART_HEIGHT = 300;
const DEFAULT_EPOCHS = 12;
/** Over a dozen epochs the paper's rebalance leaves the boundary term's weight below 0.12: the stretched one shows it. */
const DEFAULT_SCHEDULE: TrainSchedule = 'rebalance-stretched';

type Props = { readonly [k: string]: string | number | boolean | undefined };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, children: readonly (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'style') e.setAttribute('style', String(v));
    else if (typeof v === 'boolean') (e as unknown as Record<string, boolean>)[k] = v;
    else e.setAttribute(k, String(v));
  }
  e.append(...children);
  return e;
}

/** A swatch and its label, for the overlay legend. */
function swatch(color: string, label: string, fill?: string): HTMLElement {
  return el('span', { class: 'train-swatch', style: 'display:inline-flex;align-items:center;gap:4px;margin-right:12px' }, [
    el('span', { style: `display:inline-block;width:10px;height:10px;border:2px solid ${color};background:${fill ?? 'transparent'}` }),
    label,
  ]);
}

/** What the panel keeps of one setting's run. */
interface RunView {
  readonly setting: TrainSetting;
  worker?: Worker;
  backend: string;
  slices: readonly OverlaySlice[];
  curve: { epoch: number; valDice: number; valLesionDice: number }[];
  seconds: number[];
  status: HTMLElement;
  canvases: HTMLCanvasElement[];
  captions: HTMLElement[];
  ended: boolean;
  failed?: string;
  valSlices: number;
}

function drawOverlay(canvas: HTMLCanvasElement, slice: OverlaySlice, pred: Uint8Array | undefined, size: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const rgba = overlayRgba(slice.image, slice.label, pred ?? new Uint8Array(size * size), size, size, OVERLAY_SCALE);
  ctx.putImageData(new ImageData(rgba, size * OVERLAY_SCALE, size * OVERLAY_SCALE), 0, 0);
}

/**
 * Builds the train panel inside `root` (emptied first): the controls (epochs, seed, schedule,
 * backend, start and stop), the status of each run, the chart, the overlays and the closing line.
 * Starting creates two workers from `train-worker.js` beside the page's script; a new start (or a
 * worker's error) ends the old workers.
 */
export function mountTrainPanel(root: HTMLElement): void {
  root.replaceChildren();
  root.dataset['state'] = 'idle';
  root.dataset['epochsDone'] = '0';

  const epochsInput = el('input', { type: 'number', min: 1, max: MAX_EPOCHS, step: 1, value: DEFAULT_EPOCHS, id: 'train-epochs', style: 'width:5em' });
  const seedInput = el('input', { type: 'number', min: 0, step: 1, value: 0, id: 'train-seed', style: 'width:6em' });
  const scheduleSelect = el('select', { id: 'train-schedule' }, TRAIN_SCHEDULES.map((s) => el('option', { value: s, text: s, selected: s === DEFAULT_SCHEDULE })));
  const backendSelect = el('select', { id: 'train-backend' }, BACKEND_CHOICES.map((b) => el('option', { value: b, text: BACKEND_LABELS[b] })));
  const startButton = el('button', { type: 'button', id: 'train-start', text: 'Start' });
  const stopButton = el('button', { type: 'button', id: 'train-stop', text: 'Stop', disabled: true });
  const label = (text: string, input: HTMLElement) => el('label', { style: 'margin-right:12px' }, [`${text} `, input]);

  const scheduleLine = el('p', { class: 'train-schedule' });
  const dataLine = el('p', { class: 'train-data' });
  const message = el('p', { class: 'train-message', role: 'status' });
  const chart = el('canvas', { class: 'train-chart', 'aria-label': 'validation DSC and lesion-slice DSC per epoch, both settings' });
  const comparison = el('p', { class: 'train-comparison', id: 'train-comparison' });

  const runs: RunView[] = TRAIN_SETTINGS.map((setting) => ({
    setting, backend: '', slices: [], curve: [], seconds: [], ended: false, valSlices: TRAIN_DATA.valSlices,
    status: el('div', { class: 'train-status', text: `${settingLabel(setting)}: not started` }),
    canvases: [], captions: [],
  }));
  const overlayRows = runs.map((run) => {
    const figures = Array.from({ length: OVERLAY_SLICES }, () => {
      const canvas = el('canvas', { width: TRAIN_DATA.size * OVERLAY_SCALE, height: TRAIN_DATA.size * OVERLAY_SCALE, style: 'image-rendering:pixelated;display:block' });
      const caption = el('figcaption', { style: 'font-size:0.85em' });
      run.canvases.push(canvas);
      run.captions.push(caption);
      return el('figure', { style: 'margin:0 8px 8px 0' }, [canvas, caption]);
    });
    return el('div', { class: 'train-overlays' }, [
      el('h4', { text: settingLabel(run.setting), style: 'margin:8px 0 4px' }),
      el('div', { style: 'display:flex;flex-wrap:wrap' }, figures),
    ]);
  });
  const legend = el('div', { class: 'train-legend', style: 'font-size:0.9em;margin:4px 0' }, [
    swatch(hex(OVERLAY_PALETTE.groundTruth), 'ground truth'),
    swatch(hex(OVERLAY_PALETTE.prediction), 'prediction', `rgba(${OVERLAY_PALETTE.prediction.join(', ')}, ${PREDICTION_FILL_ALPHA})`),
    swatch(hex(OVERLAY_PALETTE.both), 'both'),
  ]);

  root.append(
    el('h2', { text: 'Train: GDL against GDL + boundary loss' }),
    el('p', {
      text: `A U-Net (base ${TRAIN_MODEL.base}, depth ${TRAIN_MODEL.depth}, batch norm; Adam, learning rate ${TRAIN_MODEL.learningRate}, batches of ${TRAIN_MODEL.batchSize}) `
        + `trains in this page, in two workers at once, on the synthetic unbalanced set: ${TRAIN_DATA.trainSlices} training and ${TRAIN_DATA.valSlices} validation slices of `
        + `${TRAIN_DATA.size} × ${TRAIN_DATA.size} from synthetic brain volumes with small white-matter lesions. One run uses GDL alone, the other GDL + boundary loss `
        + '(distance maps of the interface convention); both share the seed, so the data and the initial weights are the same. GDL uses MONAI\'s class weights.',
    }),
    el('div', { class: 'train-controls' }, [
      label('epochs', epochsInput), label('seed', seedInput), label('schedule', scheduleSelect), label('backend', backendSelect), startButton, ' ', stopButton,
    ]),
    scheduleLine,
    dataLine,
    message,
    ...runs.map((r) => r.status),
    chart,
    legend,
    ...overlayRows,
    comparison,
  );

  const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
  chart.width = CHART_WIDTH * dpr;
  chart.height = CHART_HEIGHT * dpr;
  chart.style.width = `${CHART_WIDTH}px`;
  chart.style.height = `${CHART_HEIGHT}px`;
  chart.style.maxWidth = '100%';

  let plannedEpochs = DEFAULT_EPOCHS;

  const redrawChart = () => {
    const ctx = chart.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const curves: Curve[] = runs.flatMap((r) => [
      { label: `${settingLabel(r.setting)}: DSC`, color: SETTING_COLOURS[r.setting], points: r.curve.map((e) => ({ epoch: e.epoch, value: e.valDice })) },
      { label: `${settingLabel(r.setting)}: lesion-slice DSC`, color: SETTING_COLOURS[r.setting], dashed: true, points: r.curve.map((e) => ({ epoch: e.epoch, value: e.valLesionDice })) },
    ]);
    drawCurves(ctx, CHART_WIDTH, CHART_HEIGHT, { title: 'Validation DSC per epoch (solid: all slices; dashed: slices with lesions)', yLabel: 'DSC', epochs: plannedEpochs, curves });
  };

  const describeStatus = (r: RunView) => {
    const done = r.curve.length;
    const mean = r.seconds.length > 0 ? r.seconds.reduce((a, b) => a + b, 0) / r.seconds.length : NaN;
    const last = r.curve[done - 1];
    let text = `${settingLabel(r.setting)}: ${r.backend !== '' ? `backend ${r.backend}` : 'starting'}, epoch ${done} of ${plannedEpochs}`;
    if (Number.isFinite(mean)) text += `, ${mean.toFixed(2)} s per epoch`;
    if (last) text += `, DSC ${last.valDice.toFixed(3)}, lesion-slice DSC ${Number.isFinite(last.valLesionDice) ? last.valLesionDice.toFixed(3) : 'n/a'}`;
    if (r.failed !== undefined) text += `; failed: ${r.failed}`;
    else if (r.ended) text += done < plannedEpochs ? ' (stopped)' : ' (done)';
    r.status.textContent = text;
  };

  const updateSchedule = () => {
    const epochs = Number(epochsInput.value);
    const schedule = scheduleSelect.value as TrainSchedule;
    try {
      scheduleLine.textContent = `Schedule of GDL + boundary: ${scheduleNote('gdl+boundary', schedule, epochs)}. GDL alone keeps weight 1.`;
    } catch (e) {
      scheduleLine.textContent = (e as Error).message;
    }
  };
  epochsInput.addEventListener('input', updateSchedule);
  scheduleSelect.addEventListener('change', updateSchedule);
  updateSchedule();
  redrawChart();

  const finishIfEnded = () => {
    root.dataset['epochsDone'] = String(Math.min(...runs.map((r) => r.curve.length)));
    if (!runs.every((r) => r.ended)) return;
    startButton.disabled = false;
    stopButton.disabled = true;
    const failed = runs.filter((r) => r.failed !== undefined);
    if (root.dataset['state'] === 'stopping') message.textContent = `Stopped on request after ${Math.min(...runs.map((r) => r.curve.length))} of ${plannedEpochs} epochs.`;
    root.dataset['state'] = failed.length > 0 ? 'error' : 'done';
    if (failed.length === 0) {
      const curves: SettingCurve[] = runs.map((r) => ({ setting: r.setting, epochs: r.curve }));
      comparison.textContent = compareSettings(curves[0]!, curves[1]!, runs[0]!.valSlices);
    }
    runs.forEach((r) => r.worker?.terminate());
  };

  const onReply = (r: RunView, reply: WorkerReply) => {
    switch (reply.type) {
      case 'ready':
        r.backend = reply.backend;
        r.slices = reply.slices;
        r.valSlices = reply.valSlices;
        if (reply.fallback !== undefined) message.textContent = `${settingLabel(r.setting)}: ${reply.fallback}.`;
        dataLine.textContent = `Data: syntheticWmh, seed ${reply.seed}: ${reply.trainSlices} training and ${reply.valSlices} validation slices of ${reply.size} × ${reply.size}, lesions ${(100 * reply.foregroundShare).toFixed(2)} % of the pixels.`;
        if (reply.setting === 'gdl+boundary') scheduleLine.textContent = `Schedule of GDL + boundary (running): ${reply.schedule}. GDL alone keeps weight 1.`;
        reply.slices.forEach((s, i) => {
          if (r.canvases[i]) drawOverlay(r.canvases[i]!, s, undefined, reply.size);
          if (r.captions[i]) r.captions[i]!.textContent = `${s.id}: ${s.lesionPixels} lesion px`;
        });
        break;
      case 'epoch':
        r.curve.push({ epoch: reply.epoch, valDice: reply.valDice, valLesionDice: reply.valLesionDice });
        r.seconds.push(reply.seconds);
        reply.overlays.forEach((pred, i) => {
          const s = r.slices[i];
          if (s && r.canvases[i]) drawOverlay(r.canvases[i]!, s, pred, TRAIN_DATA.size);
        });
        redrawChart();
        break;
      case 'done':
        r.ended = true;
        break;
      case 'error':
        r.ended = true;
        r.failed = reply.message;
        break;
    }
    describeStatus(r);
    finishIfEnded();
  };

  startButton.addEventListener('click', () => {
    const epochs = Number(epochsInput.value);
    const seed = Number(seedInput.value);
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > MAX_EPOCHS) {
      message.textContent = `epochs: expected an integer in 1 … ${MAX_EPOCHS}, got ${epochsInput.value || 'nothing'}`;
      return;
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      message.textContent = `seed: expected an integer in 0 … ${0xffffffff}, got ${seedInput.value || 'nothing'}`;
      return;
    }
    runs.forEach((r) => r.worker?.terminate());
    plannedEpochs = epochs;
    message.textContent = '';
    comparison.textContent = '';
    root.dataset['state'] = 'running';
    root.dataset['epochsDone'] = '0';
    startButton.disabled = true;
    stopButton.disabled = false;
    const schedule = scheduleSelect.value as TrainSchedule;
    const backend = backendSelect.value as BackendChoice;
    for (const r of runs) {
      Object.assign(r, { backend: '', slices: [], curve: [], seconds: [], ended: false, failed: undefined });
      const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
      r.worker = worker;
      worker.onmessage = (event: MessageEvent<WorkerReply>) => onReply(r, event.data);
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        onReply(r, { type: 'error', setting: r.setting, message: event.message || 'the worker could not start (is train-worker.js beside the page\'s script?)' });
      };
      const request: WorkerRequest = { type: 'start', setting: r.setting, epochs, seed, backend, schedule };
      worker.postMessage(request);
      describeStatus(r);
    }
    redrawChart();
  });

  stopButton.addEventListener('click', () => {
    const request: WorkerRequest = { type: 'stop' };
    runs.forEach((r) => r.worker?.postMessage(request));
    stopButton.disabled = true;
    root.dataset['state'] = 'stopping';
    message.textContent = 'Stopping after the epoch under way…';
  });
}
