/**
 * What `experiment` compares: loss settings written `LOSS[+LOSS][:SCHEDULE]` (`gdl`,
 * `gdl+boundary:steal-stretched`, `boundary`), and the two protocols — `quick`, the default of
 * `npm start`, sized to finish within minutes on a laptop's CPU, and `reference`, the authors'
 * protocol (their network, 100 epochs, their learning-rate rule).
 */
import { lossNames, type LossName, type ScheduleSpec } from '../models/objective.js';
import { UsageError } from './errors.js';
import { cliScheduleNames, isCliScheduleName, scheduleSpec, type CliScheduleName } from './schedules.js';
import { DEFAULT_PAIR_SCHEDULE } from './train-setup.js';

/** One loss setting of an experiment. */
export interface Setting {
  /** The setting as written on the command line, normalised (`gdl+boundary:steal`). */
  readonly key: string;
  /** Table label: `GDL`, `GDL + boundary (steal)`, `boundary alone`. */
  readonly label: string;
  /** Folder of its runs. */
  readonly folder: string;
  readonly losses: readonly LossName[];
  /** The command-line schedule name (for two losses) and the stored schedule. */
  readonly scheduleName?: CliScheduleName;
  readonly schedule: ScheduleSpec;
}

const LOSS_LABEL: Readonly<Record<LossName, string>> = { gdl: 'GDL', boundary: 'boundary', dice: 'Dice', ce: 'CE', focal: 'focal' };

/**
 * Parses one setting for a run of `epochs` epochs. One loss trains alone with weight 1; two losses
 * combine under the schedule after `:` (default: the command line's default pair schedule).
 *
 * @throws UsageError naming `--settings` and the setting.
 */
export function parseSetting(text: string, epochs: number): Setting {
  const bad = (why: string) => new UsageError(`--settings: '${text}': ${why}`);
  const [lossPart = '', schedulePart, ...rest] = text.split(':');
  if (rest.length > 0) throw bad('expected LOSS[+LOSS][:SCHEDULE], with one colon at most');
  const losses = lossPart.split('+').map((s) => s.trim());
  for (const l of losses) if (!(lossNames as readonly string[]).includes(l)) throw bad(`unknown loss '${l}'; expected ${lossNames.join(', ')}`);
  if (new Set(losses).size !== losses.length) throw bad('a loss appears twice');
  if (losses.length > 2) throw bad('at most two losses (a regional loss and the boundary loss)');
  const lossList = losses as LossName[];
  if (lossList.length === 1) {
    if (schedulePart !== undefined) throw bad('a single loss trains with weight 1: no schedule');
    const only = lossList[0]!;
    return { key: only, label: only === 'boundary' ? 'boundary alone' : LOSS_LABEL[only], folder: only, losses: lossList, schedule: { name: 'constant' } };
  }
  const name = schedulePart ?? DEFAULT_PAIR_SCHEDULE;
  if (!isCliScheduleName(name)) throw bad(`unknown schedule '${name}'; expected one of ${cliScheduleNames.join(', ')}`);
  if (name === 'constant') throw bad('constant weights: give the two losses their own setting, or use a schedule');
  const key = `${lossList.join('+')}:${name}`;
  return {
    key,
    label: `${lossList.map((l) => LOSS_LABEL[l]).join(' + ')} (${name})`,
    folder: key.replace(/[+:]/g, '-'),
    losses: lossList,
    scheduleName: name,
    schedule: scheduleSpec(name, epochs),
  };
}

/** Parses `--settings`: distinct settings (by their normalised key). */
export function parseSettings(list: readonly string[], epochs: number): Setting[] {
  const settings = list.map((s) => parseSetting(s, epochs));
  const seen = new Set<string>();
  for (const s of settings) {
    if (seen.has(s.key)) throw new UsageError(`--settings: '${s.key}' is listed twice`);
    seen.add(s.key);
  }
  return settings;
}

/** An experiment protocol: the defaults of the flags it sets (explicit flags override them). */
export interface Protocol {
  readonly name: 'quick' | 'reference';
  readonly description: string;
  /** Flag defaults (camelCase flag names). */
  readonly defaults: Readonly<Record<string, string | number | boolean | readonly string[]>>;
  /** Flag defaults that apply to the synthetic data only (the slice counts). */
  readonly syntheticDefaults: Readonly<Record<string, number>>;
}

/**
 * The protocols:
 * - `quick` (default): the U-Net with batch norm, base 16, depth 3, on 64×64 slices (on the
 *   synthetic set: 96 training slices from 6 volumes, 48 validation slices from 3); 12 epochs;
 *   GDL, GDL + boundary loss under the paper's rebalance and the reference's steal as published
 *   (0.01 per epoch), and the boundary loss alone; 3 seeds. About 13 minutes on a 2-core CPU.
 * - `reference`: the authors' protocol — their network (`--arch reference`, 64 base channels),
 *   100 epochs, batch 8, their learning-rate rule, the schedules as published (rebalance: α −0.01
 *   per epoch; steal: 0.01 per epoch).
 */
export const protocols: Readonly<Record<Protocol['name'], Protocol>> = Object.freeze({
  quick: {
    name: 'quick',
    description: '12 epochs, the published schedules, U-Net base 16 depth 3 with batch norm',
    defaults: { epochs: 12, seeds: 3, settings: ['gdl', 'gdl+boundary:rebalance', 'gdl+boundary:steal', 'boundary'] },
    syntheticDefaults: { trainSlices: 96, valSlices: 48 },
  },
  reference: {
    name: 'reference',
    description: "the authors' protocol: their network, 100 epochs, batch 8, their learning-rate rule, the schedules as published",
    defaults: { arch: 'reference', epochs: 100, batchSize: 8, lrRule: 'reference', seeds: 3, settings: ['gdl', 'gdl+boundary:rebalance', 'gdl+boundary:steal', 'boundary'] },
    syntheticDefaults: {},
  },
});
