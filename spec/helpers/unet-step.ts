/**
 * The UNet-d3-b16 training step as a pure function of tensors and numbers (parameters, batch-norm
 * state, Adam's slots, the batch, the loss weights and Adam's host scalars), for jit tests.
 */
import * as core from '../../core/index.js';
import type { Tensor } from '../../core/index.js';
import { adam, objective, unet, type UNetParams } from '../../models/index.js';

/** UNet-d3-b16 without batch norm, one input channel, two classes. */
export const unetConfig = { inChannels: 1, classes: 2, base: 16, depth: 3, batchNorm: false } as const;

/** The model, the optimizer and the step (GDL + boundary loss, backward, Adam). */
export function unetStep() {
  const model = unet(unetConfig);
  const obj = objective(['gdl', 'boundary'], { name: 'rebalance' }, 2);
  const opt = adam<UNetParams>({ learningRate: 1e-3, beta2: 0.99 });
  return {
    model, opt,
    step: (p: UNetParams, s: ReturnType<typeof model.init>['state'], slots: { m: UNetParams; v: UNetParams }, images: Tensor, target: Tensor, dist: Tensor, weights: number[], scalars: number[]) => {
      const [[total, next], grads] = core.valueAndGrad((q: UNetParams) => {
        const [logits, ns] = model.apply(q, s, images, { training: true });
        const probs = core.softmax(logits, 1);
        return [obj.combine(obj.terms({ logits, probs, target, distMaps: dist }), weights), ns] as const;
      }, { hasAux: true })(p);
      const [np, nslots] = opt.apply(p, grads, slots, scalars);
      return [total, np, next, nslots] as const;
    },
  };
}

