/**
 * The loss-weight schedules as the command line names them: the library's schedules
 * (`losses/schedules.ts`), each either as published — the paper's rebalance lowers α by 0.01 per
 * epoch, the reference code's steal moves 0.01 per epoch from GDL to the boundary loss, both over
 * a 100-epoch course — or stretched over a shorter run, so that the course ends with the run:
 *
 * | CLI name              | weights                                              |
 * |-----------------------|------------------------------------------------------|
 * | `rebalance`           | α = max(0.01, 1 − 0.01e): [α, 1 − α]                  |
 * | `rebalance-stretched` | α falls linearly from 1 to 0.01 at the last epoch     |
 * | `steal`               | [max(0.1, 1 − 0.01e), 0.01(e + 1)]                    |
 * | `steal-stretched`     | the same with e' = 100·e/E: w_B reaches 1 at the end  |
 * | `constant`            | `--weights` (all 1)                                  |
 * | `increase`            | [1, min(1, 0.01e)]                                    |
 */
import type { ScheduleSpec } from '../models/objective.js';
import { UsageError } from './errors.js';

/** The schedule names the command line takes. */
export const cliScheduleNames = Object.freeze(['rebalance', 'rebalance-stretched', 'steal', 'steal-stretched', 'constant', 'increase'] as const);

/** A schedule name as the command line takes it. */
export type CliScheduleName = (typeof cliScheduleNames)[number];

/** True when `name` is one of {@link cliScheduleNames}. */
export function isCliScheduleName(name: string): name is CliScheduleName {
  return (cliScheduleNames as readonly string[]).includes(name);
}

/**
 * The library schedule of a command-line schedule name for a run of `epochs` epochs.
 * `floorAtEpoch` (rebalance) and `weights` (constant) are the flags of the same names.
 *
 * @throws UsageError for an option that does not apply to the schedule.
 */
export function scheduleSpec(name: CliScheduleName, epochs: number, options: { readonly floorAtEpoch?: number; readonly weights?: readonly number[] } = {}): ScheduleSpec {
  if (options.weights && name !== 'constant') throw new UsageError('--weights applies to --schedule constant only');
  if (options.floorAtEpoch !== undefined && name !== 'rebalance') throw new UsageError(`--floor-at-epoch applies to --schedule rebalance only${name === 'rebalance-stretched' ? ' (rebalance-stretched reaches the floor at the last epoch)' : ''}`);
  switch (name) {
    case 'rebalance':
      return { name, ...(options.floorAtEpoch !== undefined ? { floorAtEpoch: options.floorAtEpoch } : {}) };
    case 'rebalance-stretched':
      return { name: 'rebalance', floorAtEpoch: Math.max(1, epochs - 1) };
    case 'steal':
      return { name };
    case 'steal-stretched':
      return { name: 'steal', span: epochs };
    case 'constant':
      return { name, ...(options.weights ? { weights: [...options.weights] } : {}) };
    case 'increase':
      return { name };
  }
}
