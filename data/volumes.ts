/**
 * Slices grouped back into the volumes they were cut from: `groupVolumes` lives in
 * `metrics/volumes.ts` (evaluation groups slices the same way) and is re-exported here for data code.
 */
export { groupVolumes, type VolumeGroup, type VolumeMember, type VolumeRef } from '../metrics/volumes.js';
