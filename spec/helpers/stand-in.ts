/**
 * A small stand-in for `data/` in training tests: one noisy disk per image (every fourth image
 * empty), with cached signed distance maps.
 */
import * as core from '../../core/index.js';
import { signedDistanceMaps } from '../../losses/index.js';
import { namedLeaves, type LabelledImage, type TrainingBatch, type TrainingData, type NetworkParams } from '../../models/index.js';

/** Image side of the stand-in set. */
export const SIZE = 16;

/** A small stand-in for `data/`: one noisy disk per image (some images empty), cached distance maps. */
export function standIn(trainSize: number, valSize: number, seed = 7): TrainingData {
  const make = (count: number, stream: number) =>
    Array.from({ length: count }, (_, i) => {
      const u = core.uniformArray(core.foldIn(core.key(seed), stream * 1000 + i), 3 + SIZE * SIZE);
      const empty = i % 4 === 3;
      const cy = 4 + u[0]! * 8;
      const cx = 4 + u[1]! * 8;
      const r = 2 + u[2]! * 2;
      const label = new Uint8Array(SIZE * SIZE);
      const image = new Float32Array(SIZE * SIZE);
      for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
        const k = y * SIZE + x;
        label[k] = !empty && (y - cy) ** 2 + (x - cx) ** 2 <= r * r ? 1 : 0;
        image[k] = 0.2 + 0.6 * label[k]! + 0.2 * u[3 + k]!;
      }
      const dist = signedDistanceMaps({ data: label, shape: [SIZE, SIZE] }, { classes: 2 }).data;
      return { id: `img${stream}_${i}`, image, label, dist, height: SIZE, width: SIZE, spacing: [1, 1] as const };
    });
  const train = make(trainSize, 1);
  const val = make(valSize, 2);
  return {
    classes: 2, channels: 1, height: SIZE, width: SIZE, trainSize, val: val as LabelledImage[],
    batchOrder(count, batchSize, key, shuffle) {
      const order = Array.from({ length: count }, (_, i) => i);
      if (shuffle) {
        const u = core.uniformArray(key, count);
        for (let i = count - 1; i > 0; i--) {
          const j = Math.floor(u[i]! * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      const out: number[][] = [];
      for (let i = 0; i < count; i += batchSize) out.push(order.slice(i, i + batchSize));
      return out;
    },
    batch(split, indices): TrainingBatch {
      const src = split === 'train' ? train : val;
      const n = indices.length;
      const images = new Float32Array(n * SIZE * SIZE);
      const labels = new Uint8Array(n * SIZE * SIZE);
      const dist = new Float32Array(n * 2 * SIZE * SIZE);
      indices.forEach((i, b) => {
        images.set(src[i]!.image, b * SIZE * SIZE);
        labels.set(src[i]!.label, b * SIZE * SIZE);
        dist.set(src[i]!.dist, b * 2 * SIZE * SIZE);
      });
      return core.scope(() => ({
        images: core.tensor(images, [n, 1, SIZE, SIZE]),
        target: core.oneHot(core.tensor(labels, [n, SIZE, SIZE]), 2),
        distMaps: core.tensor(dist, [n, 2, SIZE, SIZE]),
        labels,
      }));
    },
  };
}


/** The bytes of every parameter tensor, in `namedLeaves` order (for bit-identity checks). */
export async function paramBytes(p: NetworkParams): Promise<Buffer[]> {
  return Promise.all(namedLeaves(p).map(async ([, t]) => Buffer.from((await t.data()).buffer)));
}
