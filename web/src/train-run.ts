/**
 * The playground's training run, as a function of its options alone (no DOM, no worker): the
 * synthetic unbalanced set (`syntheticWmh`, {@link TRAIN_DATA} slices of 64 × 64), a small U-Net
 * ({@link TRAIN_MODEL}) trained with GDL alone or GDL + boundary loss under the rebalance schedule
 * (the paper's, or stretched over the run), reporting after every epoch the validation metrics and
 * the predictions of {@link OVERLAY_SLICES} fixed validation slices. The page's worker
 * (`train-worker.ts`) runs it; the tests run it in Node. Two runs with one seed post identical
 * messages (the seconds aside).
 */
import {
  dispose, getBackend, InputError, objective, setBackend, syntheticWmh, train, trainDefaults, trainingData,
  type TrainConfig,
} from '../../browser.js';
import { scheduleSpec } from '../../cli/schedules.js';

/** The two settings the panel compares. */
export type TrainSetting = 'gdl' | 'gdl+boundary';
/** The settings, in the order the panel shows them. */
export const TRAIN_SETTINGS: readonly TrainSetting[] = Object.freeze(['gdl', 'gdl+boundary']);

/**
 * The schedule of GDL + boundary loss: `rebalance` is the paper's α = max(0.01, 1 − 0.01e) (over a
 * dozen epochs the boundary term's weight 1 − α stays below 0.12); `rebalance-stretched` reaches
 * the floor α = 0.01 at the last epoch (`rebalance({ floorAtEpoch: epochs − 1 })`).
 */
export type TrainSchedule = 'rebalance' | 'rebalance-stretched';
export const TRAIN_SCHEDULES: readonly TrainSchedule[] = Object.freeze(['rebalance', 'rebalance-stretched']);

/** Which backend to train on: `auto` is `wasm` (one thread), else `cpu`. */
export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'gpujs';
export const BACKEND_CHOICES: readonly BackendChoice[] = Object.freeze(['auto', 'wasm', 'cpu', 'gpujs']);

/**
 * The data of a run: slices of `size` × `size` pixels (1 mm), cut from synthetic volumes of 16
 * slices (6 training volumes, 2 validation volumes). Measured in Node on `wasm` with one thread:
 * about 1.5–4 s an epoch (training and validation; the first also compiles the step), with the
 * spread from the load on the machine's two cores.
 */
export const TRAIN_DATA = Object.freeze({ size: 64, trainSlices: 96, valSlices: 32 });

/** The network and optimizer of a run: a U-Net of base 8, depth 3, batch norm; Adam at 1e-3, batches of 8, GDL with MONAI's class weights. */
export const TRAIN_MODEL = Object.freeze({ base: 8, depth: 3, batchNorm: true, batchSize: 8, learningRate: 1e-3 });

/** The number of validation slices whose predictions every epoch reports. */
export const OVERLAY_SLICES = 3;

/** Overlay slices are picked more than this many validation indices apart where the lesions allow (see {@link overlayIndices}). */
export const OVERLAY_MIN_GAP = 2;

/** Most epochs a run may ask for. */
export const MAX_EPOCHS = 100;

/** Options of {@link trainSetting}. */
export interface TrainSettingOptions {
  readonly setting: TrainSetting;
  /** Epochs to run, an integer in 1 … {@link MAX_EPOCHS}. */
  readonly epochs: number;
  /** Seed of the synthetic set and of the training (initialisation, shuffling), an integer in 0 … 2³² − 1. */
  readonly seed: number;
  /** The schedule of `gdl+boundary` (ignored by `gdl`, which weighs GDL 1 every epoch); default `rebalance-stretched`. */
  readonly schedule?: TrainSchedule;
}

/** A validation slice shown as an overlay: channel 0 of its image and its label, [H, W] row-major. */
export interface OverlaySlice {
  readonly id: string;
  /** Values in [0, 1]. */
  readonly image: Float32Array;
  /** Class indices (0 background, 1 lesion). */
  readonly label: Uint8Array;
  /** Lesion pixels of the label. */
  readonly lesionPixels: number;
}

/** What a run says before its first epoch. */
export interface TrainReady {
  readonly type: 'ready';
  readonly setting: TrainSetting;
  readonly epochs: number;
  readonly seed: number;
  /** The backend that runs, from its description, e.g. `wasm (1 thread)`. */
  readonly backend: string;
  /** The schedule in words (see {@link scheduleNote}). */
  readonly schedule: string;
  readonly size: number;
  readonly trainSlices: number;
  readonly valSlices: number;
  /** Lesion pixels / all pixels of the set (training and validation). */
  readonly foregroundShare: number;
  /** The validation slices of the overlays, in the order of `EpochMessage.overlays`. */
  readonly slices: readonly OverlaySlice[];
}

/** What a run reports after each epoch. */
export interface EpochMessage {
  readonly type: 'epoch';
  readonly setting: TrainSetting;
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Mean weighted training loss of the epoch. */
  readonly trainLoss: number;
  /** The epoch's loss weights, one per loss ([GDL] or [GDL, boundary]). */
  readonly weights: readonly number[];
  /** Mean validation Dice over all validation slices (1 for a slice empty in both). */
  readonly valDice: number;
  /** Mean validation Dice over the slices whose ground truth has lesions (NaN when none has). */
  readonly valLesionDice: number;
  /** Mean HD95 (mm) over the slices where both masks are non-empty (NaN when none is). */
  readonly valHd95: number;
  /** Wall time of the epoch, validation included. */
  readonly seconds: number;
  /** The predicted labels [H, W] of the overlay slices (`TrainReady.slices`), fresh arrays the receiver may keep or transfer. */
  readonly overlays: readonly Uint8Array[];
}

/** The outcome of a run. */
export interface TrainSummary {
  readonly type: 'done';
  readonly setting: TrainSetting;
  /** Epochs run (fewer than asked when stopped). */
  readonly epochs: number;
  /** False when `onEpoch` stopped the run early. */
  readonly completed: boolean;
  /** The epoch (1-based) of the highest validation Dice and that Dice; epoch 0 and NaN when no epoch ran. */
  readonly best: { readonly epoch: number; readonly valDice: number };
  /** Mean seconds per epoch (NaN when no epoch ran). */
  readonly secondsPerEpoch: number;
}

const OPTION_KEYS: readonly string[] = ['setting', 'epochs', 'seed', 'schedule'];

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Checks the options of {@link trainSetting} and fills in the default schedule.
 *
 * @throws InputError naming `options` (not an object), `options.<key>` (an unknown key),
 *   `options.setting`, `options.epochs`, `options.seed` or `options.schedule`.
 */
export function checkTrainSettingOptions(options: TrainSettingOptions): Required<TrainSettingOptions> {
  const op = 'trainSetting';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new InputError(op, 'options', `expected { setting, epochs, seed, schedule? }, got ${show(options)}`);
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.includes(k)) throw new InputError(op, `options.${k}`, `unknown option; expected some of ${OPTION_KEYS.join(', ')}`);
  }
  const { setting, epochs, seed } = options;
  const schedule = options.schedule ?? 'rebalance-stretched';
  if (!TRAIN_SETTINGS.includes(setting)) throw new InputError(op, 'options.setting', `expected one of ${TRAIN_SETTINGS.map(show).join(', ')}, got ${show(setting)}`);
  if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs < 1 || epochs > MAX_EPOCHS) throw new InputError(op, 'options.epochs', `expected an integer in 1 … ${MAX_EPOCHS}, got ${show(epochs)}`);
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InputError(op, 'options.seed', `expected an integer in 0 … ${0xffffffff}, got ${show(seed)}`);
  if (!TRAIN_SCHEDULES.includes(schedule)) throw new InputError(op, 'options.schedule', `expected one of ${TRAIN_SCHEDULES.map(show).join(', ')}, got ${show(schedule)}`);
  return { setting, epochs, seed, schedule };
}

/** The loss list and schedule spec of a setting. */
function objectiveOf(setting: TrainSetting, schedule: TrainSchedule, epochs: number): Pick<TrainConfig, 'losses' | 'schedule'> {
  if (setting === 'gdl') return { losses: ['gdl'], schedule: { name: 'constant' } };
  return { losses: ['gdl', 'boundary'], schedule: scheduleSpec(schedule, epochs) };
}

/**
 * The schedule of a setting in words, with the boundary term's weight at the first and last epoch
 * as the library's `rebalance` gives them, e.g. `rebalance (the paper's α = max(0.01, 1 − 0.01·e)):
 * boundary weight 1 − α from 0 at epoch 1 to 0.11 at epoch 12`.
 *
 * @throws InputError as {@link checkTrainSettingOptions} for a bad setting, schedule or epoch count.
 */
export function scheduleNote(setting: TrainSetting, schedule: TrainSchedule, epochs: number): string {
  checkTrainSettingOptions({ setting, schedule, epochs, seed: 0 });
  if (setting === 'gdl') return 'GDL alone, weight 1 every epoch';
  const { losses, schedule: spec } = objectiveOf(setting, schedule, epochs);
  const weights = objective(losses, spec, 2);
  const weight = (e: number) => Number(weights.weights(e, epochs)[1]!.toFixed(2));
  const what = schedule === 'rebalance'
    ? 'rebalance (the paper\'s α = max(0.01, 1 − 0.01·e))'
    : `rebalance-stretched (α falls linearly to 0.01 at epoch ${epochs})`;
  const course = epochs === 1 ? `boundary weight ${weight(0)} in the run's one epoch` : `boundary weight ${weight(0)} at epoch 1, ${weight(epochs - 1)} at epoch ${epochs}`;
  return `${what}: weights [α, 1 − α] for [GDL, boundary]; ${course}`;
}

/**
 * The overlay slices of a validation set: among the n slices with lesions, ranked by lesion pixels
 * (most first, then by index), the ones at ranks round(r·(n − 1)/(count + 1)) for r = 0 … count − 1
 * (for 3: the largest lesion load, the upper quartile, the median), each moved down the ranking
 * past slices within {@link OVERLAY_MIN_GAP} indices of one picked (neighbouring slices of a volume
 * look alike) or, when none is that far, past slices picked already; in validation order. The
 * first slices not picked fill in when fewer than `count` have lesions. Returns indices into
 * `labels`.
 */
export function overlayIndices(labels: readonly Uint8Array[], count = OVERLAY_SLICES): number[] {
  const load = labels.map((l) => l.reduce((s, v) => s + (v > 0 ? 1 : 0), 0));
  const ranked = load.map((n, i) => [n, i] as const).filter(([n]) => n > 0).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
  const picked: number[] = [];
  const far = (i: number) => picked.every((j) => Math.abs(i - j) > OVERLAY_MIN_GAP);
  for (let r = 0; r < count && picked.length < ranked.length; r++) {
    const from = ranked.slice(Math.round((r * (ranked.length - 1)) / (count + 1)));
    const choice = from.find(far) ?? ranked.find(far) ?? from.find((i) => !picked.includes(i)) ?? ranked.find((i) => !picked.includes(i));
    if (choice !== undefined) picked.push(choice);
  }
  for (let i = 0; picked.length < Math.min(count, labels.length) && i < labels.length; i++) if (!picked.includes(i)) picked.push(i);
  return picked.sort((a, b) => a - b);
}

/**
 * Selects the backend of a run and says which one runs: `auto` and `wasm` try `wasm` with one
 * thread, then `cpu`; `gpujs` tries `gpujs`, then `wasm` (one thread), then `cpu`; `cpu` is `cpu`.
 * A backend that fails to start is skipped and named in `fallback` with its error.
 *
 * @returns `backend`: the backend's name and mode, e.g. `wasm (1 thread)`, `gpujs (webgl)`.
 * @throws InputError (`choice`) for another choice; the last backend's error when none starts.
 */
export async function selectTrainBackend(choice: BackendChoice = 'auto'): Promise<{ backend: string; fallback?: string }> {
  if (!BACKEND_CHOICES.includes(choice)) throw new InputError('selectTrainBackend', 'choice', `expected one of ${BACKEND_CHOICES.map(show).join(', ')}, got ${show(choice)}`);
  const wasm = ['wasm', { threads: 1 }] as const;
  const cpu = ['cpu', {}] as const;
  const order = choice === 'cpu' ? [cpu] : choice === 'gpujs' ? [['gpujs', {}] as const, wasm, cpu] : [wasm, cpu];
  const failed: string[] = [];
  for (const [i, [name, options]] of order.entries()) {
    try {
      await setBackend(name, options);
    } catch (e) {
      if (i === order.length - 1) throw e;
      failed.push(`${name} did not start (${(e as Error).message})`);
      continue;
    }
    const backend = await backendLabel();
    return failed.length > 0 ? { backend, fallback: `${failed.join('; ')}: ${backend} runs instead` } : { backend };
  }
  throw new InputError('selectTrainBackend', 'choice', `no backend to try for ${show(choice)}`);
}

/** The current backend's name and mode (when it says more than the name), e.g. `wasm (1 thread)`, `cpu`. */
async function backendLabel(): Promise<string> {
  const d = await getBackend().describe();
  return d.mode !== undefined && d.mode !== '' && d.mode !== d.name ? `${d.name} (${d.mode})` : d.name;
}

function copyChannel0(image: Float32Array, hw: number): Float32Array {
  return image.slice(0, hw);
}

/**
 * Trains one setting on the current backend (see {@link selectTrainBackend}) and reports each
 * epoch: builds the synthetic set `syntheticWmh({ seed, ...TRAIN_DATA })`, its training view with
 * interface-convention distance maps, and runs `train` with the U-Net of {@link TRAIN_MODEL}, GDL
 * (MONAI's weights) alone or with the boundary loss under `options.schedule`. `onReady` is called
 * once before training; `onEpoch` after every epoch (returning `'stop'` ends the run there).
 *
 * @returns the summary (epochs run, best validation Dice, mean seconds per epoch); the run's
 *   tensors are freed.
 * @throws InputError as {@link checkTrainSettingOptions}; errors of `train` (e.g. a non-finite loss).
 */
export async function trainSetting(
  options: TrainSettingOptions,
  onEpoch: (message: EpochMessage) => void | 'stop' | Promise<void | 'stop'>,
  onReady?: (message: TrainReady) => void | Promise<void>,
): Promise<TrainSummary> {
  const { setting, epochs, seed, schedule } = checkTrainSettingOptions(options);
  const ds = syntheticWmh({ seed, ...TRAIN_DATA });
  const hw = ds.height * ds.width;
  const shown = overlayIndices(ds.val.map((s) => s.label));
  const config: TrainConfig = {
    ...trainDefaults,
    ...objectiveOf(setting, schedule, epochs),
    model: { inChannels: ds.channels, classes: ds.classes, base: TRAIN_MODEL.base, depth: TRAIN_MODEL.depth, batchNorm: TRAIN_MODEL.batchNorm },
    seed,
    epochs,
    batchSize: TRAIN_MODEL.batchSize,
    learningRate: TRAIN_MODEL.learningRate,
    gdlWeights: 'monai',
  };
  const backend = await backendLabel();
  await onReady?.({
    type: 'ready', setting, epochs, seed,
    backend,
    schedule: scheduleNote(setting, schedule, epochs),
    size: TRAIN_DATA.size, trainSlices: ds.train.length, valSlices: ds.val.length, foregroundShare: ds.stats.foregroundShare,
    slices: shown.map((i) => {
      const s = ds.val[i]!;
      return { id: s.id, image: copyChannel0(s.image, hw), label: s.label.slice(), lesionPixels: s.label.reduce((n, v) => n + (v > 0 ? 1 : 0), 0) };
    }),
  });
  const seconds: number[] = [];
  const result = await train(config, trainingData(ds, { convention: 'interface' }), {
    onEpoch: (row, info) => {
      seconds.push(info.seconds);
      return onEpoch({
        type: 'epoch', setting, epoch: row.epoch + 1, epochs,
        trainLoss: row.trainLoss, weights: [...row.weights],
        valDice: row.valDice, valLesionDice: row.valLesionDice, valHd95: row.valHd95,
        seconds: info.seconds,
        overlays: shown.map((i) => info.predictions[i]!.slice()),
      });
    },
  });
  const bestRow = result.rows[result.best.epoch];
  const summary: TrainSummary = {
    type: 'done', setting, epochs: result.rows.length, completed: result.completed,
    best: bestRow ? { epoch: result.best.epoch + 1, valDice: bestRow.valDice } : { epoch: 0, valDice: NaN },
    secondsPerEpoch: seconds.length > 0 ? seconds.reduce((a, b) => a + b, 0) / seconds.length : NaN,
  };
  // NOTE: `train` returns the final and best trees; the panel keeps numbers and label maps only.
  dispose(result);
  return summary;
}

/** The per-epoch numbers of one setting, as the panel collects them. */
export interface SettingCurve {
  readonly setting: TrainSetting;
  readonly epochs: readonly { readonly epoch: number; readonly valDice: number; readonly valLesionDice: number }[];
}

/** The label of a setting in the panel. */
export function settingLabel(setting: TrainSetting): string {
  return setting === 'gdl' ? 'GDL' : 'GDL + boundary';
}

/** The highest finite value of `key` over the epochs and its (1-based) epoch, the first on ties; undefined when none is finite. */
export function bestOf(curve: SettingCurve, key: 'valDice' | 'valLesionDice'): { epoch: number; value: number } | undefined {
  let best: { epoch: number; value: number } | undefined;
  for (const e of curve.epochs) {
    const v = e[key];
    if (Number.isFinite(v) && (best === undefined || v > best.value)) best = { epoch: e.epoch, value: v };
  }
  return best;
}

/**
 * The panel's closing line: each setting's best validation DSC and lesion-slice DSC with their
 * epochs, and the difference of the best DSCs (second minus first), as measured: e.g. `Best
 * validation DSC: GDL 0.390 (epoch 5), GDL + boundary 0.387 (epoch 8), difference −0.003; best
 * lesion-slice DSC: GDL 0.483 (epoch 10), GDL + boundary 0.206 (epoch 7). One seed, 32 validation
 * slices, 12 epochs.`
 */
export function compareSettings(a: SettingCurve, b: SettingCurve, valSlices: number): string {
  const fmt = (x: { epoch: number; value: number } | undefined) => (x ? `${x.value.toFixed(3)} (epoch ${x.epoch})` : 'n/a');
  const part = (key: 'valDice' | 'valLesionDice') => `${settingLabel(a.setting)} ${fmt(bestOf(a, key))}, ${settingLabel(b.setting)} ${fmt(bestOf(b, key))}`;
  const [da, db] = [bestOf(a, 'valDice'), bestOf(b, 'valDice')];
  const diff = da && db ? `, difference ${(db.value - da.value >= 0 ? '+' : '−')}${Math.abs(db.value - da.value).toFixed(3)}` : '';
  const epochs = Math.max(a.epochs.length, b.epochs.length);
  return `Best validation DSC: ${part('valDice')}${diff}; best lesion-slice DSC: ${part('valLesionDice')}. One seed, ${valSlices} validation slices, ${epochs} epoch${epochs === 1 ? '' : 's'}.`;
}

/** What the panel posts to a training worker: start one run (once per worker), or stop it after the epoch under way. */
export type WorkerRequest =
  | { readonly type: 'start'; readonly setting: TrainSetting; readonly epochs: number; readonly seed: number; readonly backend: BackendChoice; readonly schedule?: TrainSchedule }
  | { readonly type: 'stop' };

/**
 * What a training worker posts: `ready` (with `fallback` when the chosen backend did not start and
 * another runs), one `epoch` per epoch (its overlays' buffers transferred), then `done`, or
 * `error` with the message of what went wrong.
 */
export type WorkerReply =
  | (TrainReady & { readonly fallback?: string })
  | EpochMessage
  | TrainSummary
  | { readonly type: 'error'; readonly setting?: TrainSetting; readonly message: string };
