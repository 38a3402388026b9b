/**
 * Predictions of a trained network for slices of any size: batched forward passes in evaluation
 * mode, images padded with zeros at the bottom/right to a multiple of what the network takes
 * (2^depth for the U-Net, 8 for the reference network) and the labels cropped back, so outputs
 * keep the input's geometry.
 */
import { tensor } from '../core/ops.js';
import { MAX_PIXELS_PER_PASS } from './limits.js';
import type { Slice } from '../data/types.js';
import { predictLabels } from '../models/evaluate.js';
import { networkInputMultiple, type Network, type NetworkParams, type NetworkState } from '../models/networks.js';

/**
 * The class-index label map [H, W] of each slice. Slices of one call may differ in size. A forward
 * pass takes at most `batchSize` slices and at most `MAX_PIXELS_PER_PASS` pixels (one slice at
 * least), so that large slices are predicted one by one instead of all at once.
 */
export async function predictSlices(model: Network, params: NetworkParams, state: NetworkState, slices: readonly Slice[], batchSize: number, onBatch?: (done: number) => void): Promise<Uint8Array[]> {
  const f = networkInputMultiple(model.config);
  const out: Uint8Array[] = new Array(slices.length);
  let i = 0;
  while (i < slices.length) {
    const first = slices[i]!;
    const { channels: c, height: h, width: w } = first;
    const ph = Math.ceil(h / f) * f;
    const pw = Math.ceil(w / f) * f;
    const perPass = Math.max(1, Math.min(batchSize, Math.floor(MAX_PIXELS_PER_PASS / (ph * pw))));
    const group: number[] = [];
    while (i < slices.length && group.length < perPass && slices[i]!.height === first.height && slices[i]!.width === first.width && slices[i]!.channels === first.channels) group.push(i++);
    const host = new Float32Array(group.length * c * ph * pw);
    group.forEach((si, b) => {
      const img = slices[si]!.image;
      for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) {
        host.set(img.subarray((ch * h + y) * w, (ch * h + y + 1) * w), ((b * c + ch) * ph + y) * pw);
      }
    });
    const x = tensor(host, [group.length, c, ph, pw]);
    const labels = await predictLabels(model, params, state, x);
    x.dispose();
    group.forEach((si, b) => {
      const lab = new Uint8Array(h * w);
      for (let y = 0; y < h; y++) lab.set(labels.subarray((b * ph + y) * pw, (b * ph + y) * pw + w), y * w);
      out[si] = lab;
    });
    onBatch?.(i);
  }
  return out;
}
