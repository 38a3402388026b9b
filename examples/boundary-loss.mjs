// The boundary loss on one synthetic slice: signed distance maps of the ground truth, the loss and
// its gradient for a soft prediction, the regional losses beside it, and the metrics of the
// prediction's argmax.
//
//   node examples/boundary-loss.mjs
import {
  tensor, softmax, argmax, valueAndGrad, dispose, sum, abs,
  syntheticWmh, signedDistanceMaps, boundaryLoss, generalizedDiceLoss, crossEntropy,
  dice, hausdorff95, getBackend,
} from 'boundary-seg';

// A small WMH-like set; take the validation slice with the most lesion pixels.
const ds = syntheticWmh({ seed: 0, trainSlices: 4, valSlices: 8, size: 64 });
const slice = ds.val.reduce((a, b) => (b.label.reduce((n, v) => n + v, 0) > a.label.reduce((n, v) => n + v, 0) ? b : a));
const { height: H, width: W } = slice;
const lesion = slice.label.reduce((n, v) => n + v, 0);
console.log(`slice ${slice.id}: ${H}×${W}, ${lesion} lesion pixels (${(100 * lesion / (H * W)).toFixed(2)} %)`);

// φ_G for both classes, [1, 2, H, W]: negative inside the lesion, positive outside, 0 on its boundary.
const maps = signedDistanceMaps({ data: slice.label, shape: [1, H, W] }, { classes: 2, batched: true, convention: 'interface' });
const phi = tensor(maps.data, maps.shape);

// The one-hot target, and a prediction: the lesion shifted by 2 pixels to the right.
const onehot = new Float32Array(2 * H * W);
for (let i = 0; i < H * W; i++) onehot[slice.label[i] * H * W + i] = 1;
const target = tensor(onehot, [1, 2, H, W]);
const guess = new Float32Array(2 * H * W);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) guess[H * W + y * W + x] = x >= 2 && slice.label[y * W + x - 2] ? 2 : -2;
const logits = tensor(guess, [1, 2, H, W]);

// The boundary loss on the lesion class, and its gradient with respect to the logits.
const [loss, g] = valueAndGrad((z) => boundaryLoss(softmax(z, 1), phi, { idc: [1] }))(logits);
const gdl = generalizedDiceLoss(softmax(logits, 1), target);
const ce = crossEntropy(softmax(logits, 1), target);
const gradNorm = sum(abs(g));
console.log(`boundary loss ${(await loss.data())[0].toFixed(4)}   GDL ${(await gdl.data())[0].toFixed(4)}   CE ${(await ce.data())[0].toFixed(4)}   Σ|∂L/∂z| ${(await gradNorm.data())[0].toFixed(4)}`);

// Metrics on the argmax, as plain arrays.
const pred = argmax(logits, 1);
const predMask = Uint8Array.from(await pred.data());
const gt = { data: slice.label, shape: [H, W] };
const p = { data: predMask, shape: [H, W] };
console.log(`DSC ${dice(p, gt).toFixed(3)}   HD95 ${hausdorff95(p, gt, { spacing: slice.spacing }).toFixed(2)} mm   backend ${getBackend().name}`);
dispose([phi, target, logits, loss, g, gdl, ce, gradNorm, pred]);
