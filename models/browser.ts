/**
 * `boundary-seg/models` in a browser: everything of the Node entry (`index.ts`) but checkpoint
 * files (`readCheckpointFile`, `readRunRows`, `loadCheckpoint`, `saveCheckpoint`): checkpoints are
 * bytes here (`encodeCheckpoint`, `decodeCheckpoint`, `restoreCheckpoint`), and `train` takes no
 * run folder (`dir`). Importing this module registers the built-in backends for a browser.
 */
import '../backends/register-browser.js';

export * from './portable.js';
