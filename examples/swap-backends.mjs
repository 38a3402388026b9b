// The same computation on every backend that starts here: the boundary loss + GDL of a prediction
// and its gradient, on cpu (the readable reference), cpu64 (float64), wasm (the fast default) and,
// when the optional gpu.js package is installed, gpujs (here its JavaScript mode). The model code
// does not change; only `setBackend` does.
//
//   node examples/swap-backends.mjs
import {
  tensor, softmax, add, mul, scalar, valueAndGrad, dispose, setBackend, getBackend,
  signedDistanceMaps, boundaryLoss, generalizedDiceLoss,
} from 'boundary-seg';

const H = 32, W = 32;
const label = new Uint8Array(H * W);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((y - 15) ** 2 + (x - 17) ** 2 < 36) label[y * W + x] = 1;
const maps = signedDistanceMaps({ data: label, shape: [1, H, W] }, { classes: 2, batched: true });
const onehot = new Float32Array(2 * H * W);
for (let i = 0; i < H * W; i++) onehot[label[i] * H * W + i] = 1;
const logitsData = new Float32Array(2 * H * W).map((_, i) => Math.sin(i * 0.37));

async function lossAndGrad() {
  const phi = tensor(maps.data, maps.shape);
  const target = tensor(onehot, [1, 2, H, W]);
  const f = (z) => {
    const p = softmax(z, 1);
    return add(mul(generalizedDiceLoss(p, target), scalar(0.99)), mul(boundaryLoss(p, phi, { idc: [1] }), scalar(0.01)));
  };
  const [l, g] = valueAndGrad(f)(tensor(logitsData, [1, 2, H, W]));
  const out = { loss: (await l.data())[0], grad: await g.data() };
  dispose([l, g, phi, target]);
  return out;
}

const choices = [['cpu', {}], ['cpu64', {}], ['wasm', {}], ['gpujs', { mode: 'cpu' }]];
let reference;
for (const [name, options] of choices) {
  try {
    await setBackend(name, options);
  } catch (e) {
    console.log(`${name.padEnd(6)} not available: ${e.message}`);
    continue;
  }
  const r = await lossAndGrad();
  reference ??= r;
  let diff = 0;
  for (let i = 0; i < r.grad.length; i++) diff = Math.max(diff, Math.abs(r.grad[i] - reference.grad[i]));
  console.log(`${getBackend().name.padEnd(6)} loss ${r.loss.toFixed(6)}   max |grad − cpu's| ${diff.toExponential(2)}`);
  if (diff > 1e-4) throw new Error(`${name}: the gradient differs from cpu's by ${diff}`);
}
