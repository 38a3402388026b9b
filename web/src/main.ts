/**
 * The boundary loss playground (the page of `web/index.html`): a painting grid for a ground truth G
 * and a prediction S, the signed distance map φ_G and the gradient ∂L_B/∂s as colour maps, the
 * losses, the identity's two sides and the contour-distance estimate for s = (1 − t)·S + t·G, a
 * chart of L_B over t, a convention switch and a backend menu. Everything is computed by
 * `web/src/geometry.ts` with the library; this module only draws and listens. It also mounts the
 * training panel (`web/src/train-panel.ts`) and installs `window.playground` (`web/src/api.ts`).
 *
 * Updates: painting marks the masks dirty and asks for an animation frame; each frame redraws the
 * grid and asks for one update. Updates run one at a time, and while one runs at most one more
 * waits (every request made meanwhile joins it), so updates follow the stroke segment by segment
 * when they are fast and as often as they finish when they are slow; the last state is always
 * computed.
 */
import { InputError, add, dispose, scope, setBackend, tensor } from '../../browser.js';
import { OVERLAY_COLOURS, divergingColour, formatDistance, colourBarColour } from '../../cli/render/colour.js';
import type { PlaygroundApi, PlaygroundConvention, PlaygroundResults, PresetName } from './api.js';
import { boundaryLossCurve, computeGeometry, readBinaryMask, readBlend, type BlendCurve } from './geometry.js';
import { PRESET_NAMES, isPresetName, presetMasks } from './presets.js';
import { mountTrainPanel } from './train-panel.js';

declare global {
  interface Window {
    playground?: PlaygroundApi;
  }
}

/** Grid side N. */
const N = 96;

/** Points of the L_B-over-t chart. */
const CURVE_POINTS = 11;

/** How long a backend may take to start (and run one addition) before the menu leaves it out. */
const PROBE_TIMEOUT_MS = 15_000;

/** The backend menu, in the order tried; the first that starts is the default. */
const CANDIDATES: readonly { readonly label: string; readonly name: string; readonly options: Readonly<Record<string, unknown>> }[] = [
  { label: 'wasm', name: 'wasm', options: {} },
  { label: 'cpu', name: 'cpu', options: {} },
  { label: 'gpujs:webgl', name: 'gpujs', options: { mode: 'webgl' } },
  { label: 'gpujs:webgpu', name: 'gpujs', options: { mode: 'webgpu' } },
];

// ---------------------------------------------------------------------------------------------
// State

type PaintTarget = 'gt' | 'pred';
type Tool = 'brush' | 'eraser';

interface State {
  gt: Uint8Array;
  pred: Uint8Array;
  blend: number;
  convention: PlaygroundConvention;
  /** The radii of the disk preset while the masks are that preset's. */
  radii: { gt: number; pred: number } | undefined;
  /** The backend menu's choice (a label of CANDIDATES), once one has started. */
  backend: string | undefined;
  target: PaintTarget;
  tool: Tool;
  brush: number;
}

const initial = presetMasks('disk', N);
const state: State = {
  gt: initial.gt,
  pred: initial.pred,
  blend: 0,
  convention: 'reference',
  radii: initial.radii,
  backend: undefined,
  target: 'gt',
  tool: 'brush',
  brush: 4,
};

/** Incremented on every change of G or S (the chart is redrawn when it changes). */
let masksVersion = 0;
/** The backends that started, in menu order. */
const started: (typeof CANDIDATES)[number][] = [];
let last: PlaygroundResults | undefined;
let curve: { key: string; value: BlendCurve } | undefined;

// ---------------------------------------------------------------------------------------------
// Elements

function element<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return el;
}

const masksCanvas = element('masks', HTMLCanvasElement);
const phiCanvas = element('phi', HTMLCanvasElement);
const gradCanvas = element('grad', HTMLCanvasElement);
const curveCanvas = element('curve', HTMLCanvasElement);
const backendSelect = element('backend', HTMLSelectElement);
const backendStatus = element('backend-status', HTMLSpanElement);
const blendInput = element('blend', HTMLInputElement);
const blendValue = element('blend-value', HTMLOutputElement);
const brushInput = element('brush-size', HTMLInputElement);
const brushValue = element('brush-size-value', HTMLOutputElement);
const errorBox = element('error', HTMLParagraphElement);

function radios(name: string): HTMLInputElement[] {
  return [...document.querySelectorAll<HTMLInputElement>(`input[type=radio][name=${name}]`)];
}

function checkRadio(name: string, value: string): void {
  for (const r of radios(name)) r.checked = r.value === value;
}

function setText(id: string, text: string): void {
  element(id, HTMLElement).textContent = text;
}

function showError(e: unknown): void {
  errorBox.hidden = false;
  errorBox.textContent = e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// Serial work: probes and updates never overlap (the library has one selected backend).

let tail: Promise<unknown> = Promise.resolve();

function serial<T>(task: () => Promise<T>): Promise<T> {
  const run = tail.catch(() => undefined).then(task);
  tail = run;
  return run;
}

let queuedUpdate: Promise<void> | undefined;

/** An update that starts after every change made so far; resolves when it has finished. */
function requestUpdate(): Promise<void> {
  if (queuedUpdate) return queuedUpdate;
  const run = serial(async () => {
    queuedUpdate = undefined;
    await update();
  });
  queuedUpdate = run;
  return run;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} did not start within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Selects a menu entry's backend (already started: the library reuses it). */
async function useBackend(label: string): Promise<void> {
  const entry = CANDIDATES.find((c) => c.label === label);
  if (!entry) throw new InputError('playground', 'backend', `unknown backend ${JSON.stringify(label)}`);
  await setBackend(entry.name, entry.options);
}

/** Starts a candidate backend and runs one addition on it; adds it to the menu when that works. */
async function probe(candidate: (typeof CANDIDATES)[number]): Promise<void> {
  backendStatus.textContent = `starting ${candidate.label}…`;
  try {
    await withTimeout(
      (async () => {
        await setBackend(candidate.name, candidate.options);
        const sum = scope(() => add(tensor([1, 2]), tensor([3, 4])));
        try {
          const values = await sum.data();
          if (values[0] !== 4 || values[1] !== 6) throw new Error(`1 + 3, 2 + 4 gave ${Array.from(values).join(', ')}`);
        } finally {
          dispose(sum);
        }
      })(),
      PROBE_TIMEOUT_MS,
      candidate.label,
    );
    started.push(candidate);
    const option = document.createElement('option');
    option.value = candidate.label;
    option.textContent = candidate.label;
    backendSelect.append(option);
    if (state.backend !== undefined) backendSelect.value = state.backend;
  } catch (e) {
    console.info(`playground: backend ${candidate.label} is not available here: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The update

async function update(): Promise<void> {
  const backend = state.backend;
  if (backend === undefined) throw new InputError('playground', 'backend', 'no backend started in this browser');
  const masks = { gt: state.gt.slice(), pred: state.pred.slice(), size: N, convention: state.convention };
  const version = masksVersion;
  try {
    await useBackend(backend);
    const t0 = performance.now();
    const geometry = await computeGeometry({ ...masks, blend: state.blend, radii: state.radii });
    const ms = performance.now() - t0;
    const key = `${version}|${masks.convention}|${backend}`;
    if (curve?.key !== key) {
      await useBackend(backend);
      curve = { key, value: await boundaryLossCurve(masks, CURVE_POINTS) };
    }
    last = { backend, ms, ...geometry };
    errorBox.hidden = true;
    render(last, curve.value);
  } catch (e) {
    showError(e);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing

type Rgb = readonly [number, number, number];

function putPixels(canvas: HTMLCanvasElement, width: number, height: number, colourAt: (i: number) => Rgb): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = colourAt(i);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

const WHITE: Rgb = [255, 255, 255];

function drawMasks(): void {
  putPixels(masksCanvas, N, N, (q) => {
    const g = state.gt[q] === 1;
    const s = state.pred[q] === 1;
    if (g && s) return OVERLAY_COLOURS.both;
    if (g) return OVERLAY_COLOURS.groundTruth;
    if (s) return OVERLAY_COLOURS.prediction;
    return WHITE;
  });
}

/** A signed map with its colour bar (left end = min, middle = 0, right end = max) and tick labels. */
function drawSigned(canvas: HTMLCanvasElement, barId: string, values: readonly number[], format: (v: number) => string, prefix: string): void {
  let min = 0;
  let max = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const inside = -min;
  const outside = max;
  putPixels(canvas, N, N, (q) => divergingColour(values[q]!, inside, outside));
  const width = 257;
  putPixels(element(barId, HTMLCanvasElement), width, 1, (i) => colourBarColour(i, width, inside, outside));
  setText(`${prefix}-min`, `min ${format(min)}`);
  setText(`${prefix}-max`, `max ${format(max)}`);
}

/** A number for the table: 6 significant digits, exponent notation for very small or large ones. */
function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

/** A tick label of the chart: 3 significant digits. */
function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e6 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

function formatGradient(v: number): string {
  return v === 0 ? '0' : v.toExponential(2);
}

function drawCurve(points: BlendCurve, blend: number, current: number): void {
  const ctx = curveCanvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = curveCanvas;
  const left = 76;
  const right = 14;
  const top = 14;
  const bottom = 40;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  let lo = Math.min(...points.losses, current);
  let hi = Math.max(...points.losses, current);
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.max(1e-6, Math.abs(hi) * 0.1);
    lo -= pad;
    hi += pad;
  }
  const x = (t: number) => left + t * (width - left - right);
  const y = (v: number) => top + ((hi - v) / (hi - lo)) * (height - top - bottom);
  ctx.strokeStyle = '#888';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, height - bottom);
  ctx.lineTo(width - right, height - bottom);
  ctx.stroke();
  ctx.fillStyle = '#1d1d1f';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.fillText(formatTick(v), left - 6, y(v));
    ctx.beginPath();
    ctx.moveTo(left - 3, y(v));
    ctx.lineTo(left, y(v));
    ctx.stroke();
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of [0, 0.5, 1]) {
    ctx.fillText(String(t), x(t), height - bottom + 5);
    ctx.beginPath();
    ctx.moveTo(x(t), height - bottom);
    ctx.lineTo(x(t), height - bottom + 3);
    ctx.stroke();
  }
  ctx.fillText('blend t (0: s = S, 1: s = G)', (left + width - right) / 2, height - 18);
  ctx.save();
  ctx.translate(10, (top + height - bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('L_B', 0, 0);
  ctx.restore();
  // Zero line, when in range.
  if (lo < 0 && hi > 0) {
    ctx.strokeStyle = '#ccc';
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(left, y(0));
    ctx.lineTo(width - right, y(0));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  const [blue, orange] = [OVERLAY_COLOURS.groundTruth, OVERLAY_COLOURS.prediction];
  ctx.strokeStyle = `rgb(${blue.join(',')})`;
  ctx.fillStyle = `rgb(${blue.join(',')})`;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  points.blends.forEach((t, i) => (i === 0 ? ctx.moveTo(x(t), y(points.losses[i]!)) : ctx.lineTo(x(t), y(points.losses[i]!))));
  ctx.stroke();
  points.blends.forEach((t, i) => {
    ctx.beginPath();
    ctx.arc(x(t), y(points.losses[i]!), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  });
  ctx.strokeStyle = `rgb(${orange.join(',')})`;
  ctx.fillStyle = `rgb(${orange.join(',')})`;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(x(blend), top);
  ctx.lineTo(x(blend), height - bottom);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.arc(x(blend), y(current), 4, 0, 2 * Math.PI);
  ctx.fill();
}

function render(results: PlaygroundResults, points: BlendCurve): void {
  drawMasks();
  drawSigned(phiCanvas, 'phi-bar', results.phi, formatDistance, 'phi');
  drawSigned(gradCanvas, 'grad-bar', results.grad, formatGradient, 'grad');
  const empty = !state.gt.includes(1) || !state.gt.includes(0);
  setText('phi-note', empty ? 'G is empty or fills the grid: it has no boundary, so φ_G ≡ 0.' : '');
  drawCurve(points, results.blend, results.boundaryLoss);
  setText('numbers-caption', `t = ${results.blend.toFixed(2)}, ${results.convention} convention, N = ${results.size}`);
  setText('v-boundary', formatNumber(results.boundaryLoss));
  setText('v-gdl', formatNumber(results.gdl));
  setText('v-dice', formatNumber(results.dice));
  setText('v-ce', formatNumber(results.ce));
  setText('v-lhs', formatNumber(results.identity.lhs));
  setText('v-rhs', formatNumber(results.identity.rhs));
  setText('v-contour', formatNumber(results.contour));
  setText('v-continuum', results.continuum === undefined ? '— (disk preset only)' : formatNumber(results.continuum));
  const timing = `${results.backend} · ${results.ms.toFixed(1)} ms per update`;
  setText('v-backend', timing);
  backendStatus.textContent = timing;
}

// ---------------------------------------------------------------------------------------------
// Painting

let stroke: { x: number; y: number } | undefined;
let framePending = false;
let masksDirty = false;

function cellOf(e: PointerEvent): { x: number; y: number } {
  const w = masksCanvas.clientWidth || 1;
  const h = masksCanvas.clientHeight || 1;
  const clamp = (v: number) => Math.min(N - 1, Math.max(0, Math.floor(v)));
  return { x: clamp((e.offsetX / w) * N), y: clamp((e.offsetY / h) * N) };
}

/** Paints (or erases) a disk of the brush's diameter centred on cell (x, y). */
function stamp(x: number, y: number): void {
  const mask = state.target === 'gt' ? state.gt : state.pred;
  const value = state.tool === 'brush' ? 1 : 0;
  const r = state.brush / 2;
  const reach = Math.ceil(r);
  let changed = false;
  for (let dy = -reach; dy <= reach; dy++) {
    for (let dx = -reach; dx <= reach; dx++) {
      if (dx * dx + dy * dy > r * r && !(dx === 0 && dy === 0)) continue;
      const cx = x + dx;
      const cy = y + dy;
      if (cx < 0 || cx >= N || cy < 0 || cy >= N) continue;
      const q = cy * N + cx;
      if (mask[q] !== value) {
        mask[q] = value;
        changed = true;
      }
    }
  }
  if (changed) masksChanged();
}

/** Paints along the segment from the last cell of the stroke to (x, y). */
function paintTo(x: number, y: number): void {
  const from = stroke ?? { x, y };
  const steps = Math.max(Math.abs(x - from.x), Math.abs(y - from.y), 1);
  for (let i = 0; i <= steps; i++) stamp(Math.round(from.x + ((x - from.x) * i) / steps), Math.round(from.y + ((y - from.y) * i) / steps));
  stroke = { x, y };
}

function masksChanged(): void {
  masksVersion++;
  state.radii = undefined;
  masksDirty = true;
  scheduleFrame();
}

function scheduleFrame(): void {
  if (framePending) return;
  framePending = true;
  requestAnimationFrame(() => {
    framePending = false;
    drawMasks();
    if (masksDirty) {
      masksDirty = false;
      requestUpdate().catch(() => undefined);
    }
  });
}

masksCanvas.addEventListener('pointerdown', (e) => {
  if (e.button !== 0) return;
  masksCanvas.setPointerCapture(e.pointerId);
  stroke = undefined;
  const { x, y } = cellOf(e);
  paintTo(x, y);
});
masksCanvas.addEventListener('pointermove', (e) => {
  if (stroke === undefined) return;
  const { x, y } = cellOf(e);
  paintTo(x, y);
});
for (const type of ['pointerup', 'pointercancel'] as const) {
  masksCanvas.addEventListener(type, () => {
    stroke = undefined;
  });
}

// ---------------------------------------------------------------------------------------------
// Controls

function applyPreset(name: PresetName): void {
  const masks = presetMasks(name, N);
  state.gt = masks.gt;
  state.pred = masks.pred;
  masksVersion++;
  state.radii = masks.radii;
  state.blend = 0;
  blendInput.value = '0';
  blendValue.textContent = '0.00';
  drawMasks();
}

function readConvention(op: string, c: unknown): PlaygroundConvention {
  if (c === 'reference' || c === 'interface') return c;
  throw new InputError(op, 'c', `expected 'reference' or 'interface', got ${JSON.stringify(c)}`);
}

for (const r of radios('target')) r.addEventListener('change', () => (state.target = r.value === 'pred' ? 'pred' : 'gt'));
for (const r of radios('tool')) r.addEventListener('change', () => (state.tool = r.value === 'eraser' ? 'eraser' : 'brush'));
for (const r of radios('convention')) {
  r.addEventListener('change', () => {
    if (!r.checked) return;
    state.convention = readConvention('playground', r.value);
    requestUpdate().catch(() => undefined);
  });
}
brushInput.addEventListener('input', () => {
  state.brush = Number(brushInput.value);
  brushValue.textContent = brushInput.value;
});
blendInput.addEventListener('input', () => {
  state.blend = Number(blendInput.value);
  blendValue.textContent = state.blend.toFixed(2);
  requestUpdate().catch(() => undefined);
});
backendSelect.addEventListener('change', () => {
  state.backend = backendSelect.value;
  requestUpdate().catch(() => undefined);
});
element('clear', HTMLButtonElement).addEventListener('click', () => {
  (state.target === 'gt' ? state.gt : state.pred).fill(0);
  masksChanged();
});
for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-preset]')) {
  button.addEventListener('click', () => {
    const name = button.dataset['preset'];
    if (!isPresetName(name)) return;
    applyPreset(name);
    requestUpdate().catch(() => undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// Start: the CPU backends first (wasm the default), the first update, then the GPU backends.

drawMasks();

const ready = (async () => {
  for (const c of CANDIDATES.filter((c) => c.name !== 'gpujs')) await serial(() => probe(c));
  const first = started[0];
  if (first === undefined) {
    const e = new Error('no backend started in this browser (tried wasm and cpu; see the console)');
    showError(e);
    backendStatus.textContent = 'no backend';
    throw e;
  }
  state.backend = first.label;
  backendSelect.value = first.label;
  await requestUpdate();
  for (const c of CANDIDATES.filter((c) => c.name === 'gpujs')) await serial(() => probe(c));
  if (last) backendStatus.textContent = `${last.backend} · ${last.ms.toFixed(1)} ms per update`;
})();
ready.catch(() => undefined);

const api: PlaygroundApi = {
  size: N,
  ready,
  backends: () => started.map((c) => c.label),
  async setBackend(choice) {
    if (!started.some((c) => c.label === choice)) {
      throw new InputError('playground.setBackend', 'choice', `expected one of the backends that started (${started.map((c) => c.label).join(', ') || 'none yet'}), got ${JSON.stringify(choice)}`);
    }
    state.backend = choice;
    backendSelect.value = choice;
    await requestUpdate();
  },
  async setConvention(c) {
    state.convention = readConvention('playground.setConvention', c);
    checkRadio('convention', state.convention);
    await requestUpdate();
  },
  async preset(name) {
    if (!isPresetName(name)) {
      throw new InputError('playground.preset', 'name', `expected one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
    }
    applyPreset(name);
    await requestUpdate();
  },
  async setMasks(gt, pred) {
    const g = readBinaryMask('playground.setMasks', 'gt', gt, N);
    const p = readBinaryMask('playground.setMasks', 'pred', pred, N);
    state.gt = g;
    state.pred = p;
    masksVersion++;
    state.radii = undefined;
    drawMasks();
    await requestUpdate();
  },
  async setBlend(t) {
    state.blend = readBlend('playground.setBlend', 't', t);
    blendInput.value = String(state.blend);
    blendValue.textContent = state.blend.toFixed(2);
    await requestUpdate();
  },
  results() {
    if (!last) throw new InputError('playground.results', 'results', 'no update has finished yet: await playground.ready first');
    return { ...last, identity: { ...last.identity }, phi: last.phi.slice(), grad: last.grad.slice() };
  },
};
window.playground = api;

const trainRoot = document.getElementById('train');
if (trainRoot) {
  try {
    mountTrainPanel(trainRoot);
  } catch (e) {
    trainRoot.textContent = `The training panel failed to start: ${e instanceof Error ? e.message : String(e)}`;
  }
}
