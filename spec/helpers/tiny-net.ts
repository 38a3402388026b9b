/**
 * A tiny conv net trained with Adam on the selected backend, for lifetime tests: a 3×3 conv with
 * bias, ReLU, a 1×1 projection, sigmoid, squared error against a fixed target.
 */
import * as core from '../../core/index.js';
import { adam } from '../../models/optim.js';

/** A trainer whose `step()` runs one training step and releases the previous state. */
export interface TinyTrainer {
  step(): void;
  dispose(): void;
}

export function tinyTrainer(): TinyTrainer {
  const k = core.split(core.key(1), 3);
  let params = {
    w: core.mul(core.normal(k[0]!, [2, 1, 3, 3]), 0.3),
    b: core.zeros([2]),
    v: core.mul(core.normal(k[1]!, [2, 1, 1, 1]), 0.3),
  };
  const x = core.uniform(k[2]!, [2, 1, 6, 6]);
  const target = core.greater(x, 0.5);
  const opt = adam<typeof params>({ learningRate: 1e-2 });
  let state = opt.init(params);
  const loss = (p: typeof params) => {
    const h = core.relu(core.add(core.conv2d(x, p.w, { padding: 1 }), core.reshape(p.b, [1, 2, 1, 1])));
    const y = core.sum(core.mul(h, p.v), 1, true);
    return core.mean(core.square(core.sub(core.sigmoid(y), target)));
  };
  return {
    step: () => {
      const [value, grads] = core.valueAndGrad(loss)(params);
      const [p2, s2] = opt.update(params, grads, state);
      core.dispose([value, grads, params, state]);
      params = p2;
      state = s2;
    },
    dispose: () => core.dispose([params, state, x, target]),
  };
}
