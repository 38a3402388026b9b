/**
 * `npm start` (for now): trains a tiny convolutional network on generated images of bright disks
 * and prints the loss falling. No GPU and no data of the user's are needed.
 */
import '../backends/register.js';
import * as core from '../core/index.js';
import { adam } from '../models/optim.js';

const SIZE = 24;
const BATCH = 8;
const STEPS = 150;

/** A batch of noisy images with one disk each, and the disk masks. */
function makeBatch(k: core.RandomKey): { images: Float32Array; masks: Float32Array } {
  const [kc, kn] = core.split(k, 2);
  const centres = core.uniformArray(kc!, BATCH * 3);
  const noise = core.normalArray(kn!, BATCH * SIZE * SIZE);
  const images = new Float32Array(BATCH * SIZE * SIZE);
  const masks = new Float32Array(BATCH * SIZE * SIZE);
  for (let b = 0; b < BATCH; b++) {
    const cy = 4 + centres[b * 3]! * (SIZE - 8);
    const cx = 4 + centres[b * 3 + 1]! * (SIZE - 8);
    const r = 2 + centres[b * 3 + 2]! * 3;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const i = (b * SIZE + y) * SIZE + x;
        const inside = (y - cy) ** 2 + (x - cx) ** 2 <= r * r ? 1 : 0;
        masks[i] = inside;
        images[i] = 0.2 + 0.6 * inside + 0.15 * noise[i]!;
      }
    }
  }
  return { images, masks };
}

type Params = { w1: core.Tensor; b1: core.Tensor; w2: core.Tensor; b2: core.Tensor; w3: core.Tensor; b3: core.Tensor };

function init(k: core.RandomKey): Params {
  const [k1, k2, k3] = core.split(k, 3);
  const he = (key: core.RandomKey, shape: number[]) => core.mul(core.normal(key, shape), Math.sqrt(2 / (shape[1]! * shape[2]! * shape[3]!)));
  return {
    w1: he(k1!, [8, 1, 3, 3]), b1: core.zeros([1, 8, 1, 1]),
    w2: he(k2!, [8, 8, 3, 3]), b2: core.zeros([1, 8, 1, 1]),
    w3: he(k3!, [2, 8, 1, 1]), b3: core.zeros([1, 2, 1, 1]),
  };
}

function logits(p: Params, x: core.Tensor): core.Tensor {
  const h1 = core.relu(core.add(core.conv2d(x, p.w1, { padding: 1 }), p.b1));
  const h2 = core.relu(core.add(core.conv2d(h1, p.w2, { padding: 1 }), p.b2));
  return core.add(core.conv2d(h2, p.w3), p.b3);
}

/** Class-balanced cross-entropy: the disk is a small part of each image. */
function loss(p: Params, x: core.Tensor, target: core.Tensor): core.Tensor {
  const logp = core.logSoftmax(logits(p, x), 1);
  const perClass = core.div(core.sum(core.mul(logp, target), [0, 2, 3]), core.add(core.sum(target, [0, 2, 3]), 1));
  return core.neg(core.mean(perClass));
}

async function main(): Promise<void> {
  const backend = await core.getBackend().describe();
  console.log(`boundary-seg demo: a 3-layer conv net learns to segment disks (backend ${backend.name})`);
  const root = core.key(0);
  let params = init(core.foldIn(root, 1));
  const opt = adam<Params>({ learningRate: 1e-2 });
  let state = opt.init(params);
  const t0 = performance.now();
  for (let step = 0; step < STEPS; step++) {
    const { images, masks } = makeBatch(core.foldIn(root, 1000 + step));
    const [value, p2, s2] = core.scope(() => {
      const x = core.tensor(images, [BATCH, 1, SIZE, SIZE]);
      const target = core.oneHot(core.tensor(masks, [BATCH, SIZE, SIZE]), 2);
      const [v, grads] = core.valueAndGrad(loss)(params, x, target);
      const [np, ns] = opt.update(params, grads, state);
      return [v, np, ns] as const;
    });
    core.dispose([params, state]);
    params = p2;
    state = s2;
    if (step % 15 === 0 || step === STEPS - 1) {
      const l = (await value.data())[0]!;
      const rate = (step + 1) / ((performance.now() - t0) / 1000);
      console.log(`step ${String(step).padStart(3)}  loss ${l.toFixed(4)}  (${rate.toFixed(1)} steps/s)`);
    }
    value.dispose();
  }
  const { images, masks } = makeBatch(core.foldIn(root, 999_999));
  const dice = core.scope(() => {
    const pred = core.argmax(logits(params, core.tensor(images, [BATCH, 1, SIZE, SIZE])), 1);
    const gt = core.tensor(masks, [BATCH, SIZE, SIZE]);
    const inter = core.sum(core.mul(pred, gt));
    return core.div(core.mul(inter, 2), core.add(core.sum(pred), core.sum(gt)));
  });
  console.log(`held-out Dice of the disk class: ${(await dice.data())[0]!.toFixed(3)}`);
}

await main();
