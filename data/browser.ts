/**
 * `boundary-seg/data` in a browser: the synthetic sets, batching, augmentation and the
 * distance-map cache — everything of the Node entry (`index.ts`) but the PNG and NIfTI codecs and
 * their limits (`decodePng`, `encodePng`, `readNifti`, `writeNifti`, `MAX_INFLATED_BYTES`, …:
 * zlib), atomic files (`writeFileAtomic`, `FileWriteError`) and the loaders of folders and nnU-Net
 * datasets. Importing this module registers the built-in backends for a browser.
 */
import '../backends/register-browser.js';

export * from './portable.js';
