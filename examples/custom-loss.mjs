// A custom loss written from the engine's primitives (a soft Tversky index that weighs missed
// lesion pixels more than false alarms), combined with the boundary loss, and minimised by plain
// gradient descent on a prediction's logits. The gradient of the custom loss comes from the
// engine's autodiff; a finite difference checks it.
//
//   node examples/custom-loss.mjs
import {
  tensor, softmax, slice, sum, mul, add, sub, div, scalar, valueAndGrad, dispose, scope, keep,
  signedDistanceMaps, boundaryLoss,
} from 'boundary-seg';

/** 1 − Tversky(p, t) on class 1 of [B, 2, H, W] probabilities; β > 1/2 penalises misses more. */
function tversky(probs, target, beta = 0.7) {
  const [b, , h, w] = probs.shape;
  const p = slice(probs, [0, 1, 0, 0], [b, 1, h, w]);
  const t = slice(target, [0, 1, 0, 0], [b, 1, h, w]);
  const tp = sum(mul(p, t));
  const fn = sum(mul(sub(scalar(1), p), t));
  const fp = sum(mul(p, sub(scalar(1), t)));
  const denom = add(add(tp, mul(fn, scalar(beta))), add(mul(fp, scalar(1 - beta)), scalar(1e-6)));
  return sub(scalar(1), div(tp, denom));
}

// A 24×24 ground truth: a small square lesion.
const H = 24, W = 24;
const label = new Uint8Array(H * W);
for (let y = 9; y < 14; y++) for (let x = 10; x < 16; x++) label[y * W + x] = 1;
const onehot = new Float32Array(2 * H * W);
for (let i = 0; i < H * W; i++) onehot[label[i] * H * W + i] = 1;
const target = tensor(onehot, [1, 2, H, W]);
const maps = signedDistanceMaps({ data: label, shape: [1, H, W] }, { classes: 2, batched: true });
const phi = tensor(maps.data, maps.shape);

const objective = (z) => {
  const p = softmax(z, 1);
  return add(mul(tversky(p, target), scalar(0.5)), mul(boundaryLoss(p, phi, { idc: [1] }), scalar(0.5)));
};
const step = valueAndGrad(objective);

// Check the gradient at one logit against a central finite difference (float32: a loose tolerance).
let z = tensor(new Float32Array(2 * H * W), [1, 2, H, W]);
const [, g0] = step(z);
const at = H * W + 11 * W + 12; // class 1, pixel (11, 12): inside the lesion
const h = 1e-2;
const bumped = async (d) => {
  const v = new Float32Array(2 * H * W); v[at] = d;
  const l = objective(tensor(v, [1, 2, H, W]));
  const out = (await l.data())[0]; dispose(l); return out;
};
const numeric = (await bumped(h) - await bumped(-h)) / (2 * h);
const analytic = (await g0.data())[at];
console.log(`∂L/∂z at (class 1, 11, 12): autodiff ${analytic.toExponential(3)}, finite difference ${numeric.toExponential(3)}`);
if (Math.abs(analytic - numeric) > 1e-3 + 0.05 * Math.abs(numeric)) throw new Error('the gradient does not match its finite difference');
dispose(g0);

// Gradient descent on the logits.
let first;
for (let it = 0; it <= 60; it++) {
  const [l, g] = step(z);
  const value = (await l.data())[0];
  first ??= value;
  if (it % 20 === 0) console.log(`step ${String(it).padStart(2)}: loss ${value.toFixed(4)}`);
  const next = scope(() => keep(sub(z, mul(g, scalar(200)))));
  dispose([l, g, z]);
  z = next;
  if (it === 60 && !(value < first)) throw new Error('the loss did not decrease');
}
dispose([z, target, phi]);
