/**
 * TensorFlow.js peers of the CPU benchmarks (dev dependencies, used only here): the JS `cpu`
 * backend of `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD; its .wasm
 * files load from node_modules). tfjs-wasm has no Conv2DBackpropFilter kernel: a bench-only one is
 * registered here (im2col by strided slices + dyᵀ·patches matMul), noted in the benchmark output.
 * Layout NHWC (tfjs's own); the same values as the project's NCHW inputs.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { UNET_D3_B16, BOUNDARY_WEIGHT, LEARNING_RATE, type UNetBatch } from './unet-d3-b16.js';

type Tf = typeof TF;

let loaded: Promise<Tf> | undefined;

/** Loads tfjs and the wasm backend once (quietly). */
export function loadTfjs(): Promise<Tf> {
  loaded ??= (async () => {
    const warn = console.warn;
    const log = console.log;
    console.warn = () => undefined;
    console.log = () => undefined;
    try {
      const tf = await import('@tensorflow/tfjs');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
      registerWasmBackpropFilter(tf);
      return tf;
    } finally {
      console.warn = warn;
      console.log = log;
    }
  })();
  return loaded;
}

/** The note printed with tfjs-wasm results. */
export const TFJS_WASM_NOTE = 'tfjs-wasm has no Conv2DBackpropFilter kernel: the bench registers one (im2col by strided slices + matMul)';

/** Selects a tfjs backend ('cpu' or 'wasm'); throws when it cannot start. */
export async function useTfjs(backend: 'cpu' | 'wasm'): Promise<Tf> {
  const tf = await loadTfjs();
  const warn = console.warn;
  const log = console.log;
  console.warn = () => undefined;
  console.log = () => undefined;
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' did not start`);
    await tf.ready();
    // tfjs prints its "install the node backend" banner on the first op
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)));
  } finally {
    console.warn = warn;
    console.log = log;
  }
  return tf;
}

/** Conv2DBackpropFilter for tfjs-wasm: dW[kh, kw, C, O] = patches(x)ᵀ · dy, NHWC. */
function registerWasmBackpropFilter(tf: Tf): void {
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const x = inputs['x'] as TF.Tensor4D;
      const dy = inputs['dy'] as TF.Tensor4D;
      const a = attrs as unknown as { strides: number | [number, number]; pad: 'same' | 'valid' | number; filterShape: [number, number, number, number]; dataFormat?: string };
      if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('bench Conv2DBackpropFilter: NHWC only');
      return tf.tidy(() => {
        const [kh, kw, c, o] = a.filterShape;
        const [n, h, w] = x.shape;
        const [, ho, wo] = dy.shape;
        const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
        let pt = 0, pb = 0, pl = 0, pr = 0;
        if (a.pad === 'same') {
          const th = Math.max((ho - 1) * sh + kh - h, 0);
          const tw = Math.max((wo - 1) * sw + kw - w, 0);
          pt = Math.floor(th / 2); pb = th - pt; pl = Math.floor(tw / 2); pr = tw - pl;
        } else if (typeof a.pad === 'number') {
          pt = pb = pl = pr = a.pad;
        }
        const xp = pt || pb || pl || pr ? tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
        const cols: TF.Tensor4D[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            cols.push(tf.stridedSlice(xp, [0, i, j, 0], [n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c], [1, sh, sw, 1]) as TF.Tensor4D);
          }
        }
        const patches = (cols.length === 1 ? cols[0]! : tf.concat(cols, 3)).reshape([n * ho * wo, kh * kw * c]);
        // dWᵀ = dyᵀ · patches (the fastest arrangement on tfjs-wasm: its transposed-operand matMul is slow)
        return tf.transpose(tf.matMul(tf.transpose(dy.reshape([n * ho * wo, o])), patches)).reshape([kh, kw, c, o]);
      });
    },
  });
}

/** NCHW → NHWC of a host array. */
export function toNhwc(src: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < n; b++) for (let ci = 0; ci < c; ci++) for (let q = 0; q < h * w; q++) out[(b * h * w + q) * c + ci] = src[(b * c + ci) * h * w + q]!;
  return out;
}

/** A tfjs training step of UNet-d3-b16 (same architecture, loss and Adam settings as ours). */
export interface TfjsUNet {
  step(): Promise<number>;
  dispose(): void;
  readonly parameterCount: number;
}

/** Builds UNet-d3-b16 on the current tfjs backend for one batch. */
export function tfjsUNet(tf: Tf, data: UNetBatch): TfjsUNet {
  const { batch, size } = data;
  const { base, depth, classes, inChannels } = UNET_D3_B16;
  const vars: TF.Variable[] = [];
  const he = (shape: number[], fanIn: number) => {
    const v = tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', 1 + vars.length));
    vars.push(v);
    return v;
  };
  const bias = (n: number) => {
    const v = tf.variable(tf.zeros([n]));
    vars.push(v);
    return v;
  };
  const conv = (cin: number, cout: number, k: number) => ({ w: he([k, k, cin, cout], cin * k * k), b: bias(cout) });
  const down: { c1: ReturnType<typeof conv>; c2: ReturnType<typeof conv> }[] = [];
  let c: number = inChannels;
  for (let l = 0; l < depth; l++) {
    const o = base * 2 ** l;
    down.push({ c1: conv(c, o, 3), c2: conv(o, o, 3) });
    c = o;
  }
  const bo = base * 2 ** depth;
  const bottleneck = { c1: conv(c, bo, 3), c2: conv(bo, bo, 3) };
  c = bo;
  const ups: { w: TF.Variable; b: TF.Variable; c1: ReturnType<typeof conv>; c2: ReturnType<typeof conv>; o: number }[] = [];
  for (let l = depth - 1; l >= 0; l--) {
    const o = base * 2 ** l;
    ups.push({ w: he([2, 2, o, c], c * 4), b: bias(o), c1: conv(2 * o, o, 3), c2: conv(o, o, 3), o });
    c = o;
  }
  const head = conv(c, classes, 1);
  const x = tf.tensor4d(toNhwc(data.x, batch, 1, size, size), [batch, size, size, 1]);
  const target = tf.tensor4d(toNhwc(data.target, batch, 2, size, size), [batch, size, size, 2]);
  const dist = tf.tensor4d(toNhwc(data.dist, batch, 2, size, size), [batch, size, size, 2]);
  const convB = (p: ReturnType<typeof conv>, t: TF.Tensor4D, pad: 'same' | 'valid') => tf.add(tf.conv2d(t, p.w as TF.Tensor4D, 1, pad), p.b) as TF.Tensor4D;
  const dbl = (p: { c1: ReturnType<typeof conv>; c2: ReturnType<typeof conv> }, t: TF.Tensor4D) => tf.relu(convB(p.c2, tf.relu(convB(p.c1, t, 'same')), 'same')) as TF.Tensor4D;
  const forward = (): TF.Tensor4D => {
    const skips: TF.Tensor4D[] = [];
    let h = x as TF.Tensor4D;
    for (const d of down) {
      h = dbl(d, h);
      skips.push(h);
      h = tf.maxPool(h, 2, 2, 'valid');
    }
    h = dbl(bottleneck, h);
    ups.forEach((u, i) => {
      const skip = skips[skips.length - 1 - i]!;
      const [n, hh, ww] = h.shape;
      const up = tf.add(tf.conv2dTranspose(h, u.w as TF.Tensor4D, [n, hh * 2, ww * 2, u.o], 2, 'valid'), u.b) as TF.Tensor4D;
      h = dbl(u, tf.concat([up, skip], 3));
    });
    return convB(head, h, 'valid');
  };
  const lossFn = (): TF.Scalar => {
    const probs = tf.softmax(forward(), 3);
    const inter = tf.sum(tf.mul(probs, target), [1, 2]);
    const pred = tf.sum(probs, [1, 2]);
    const lab = tf.sum(target, [1, 2]);
    const w = tf.div(1, tf.square(tf.add(lab, 1e-10)));
    const num = tf.add(tf.sum(tf.mul(w, inter), 1), 1e-10);
    const den = tf.add(tf.sum(tf.mul(w, tf.add(pred, lab)), 1), 1e-10);
    const gdl = tf.mean(tf.sub(1, tf.div(tf.mul(num, 2), den)));
    return tf.add(gdl, tf.mul(tf.mean(tf.mul(probs, dist)), BOUNDARY_WEIGHT)) as TF.Scalar;
  };
  const opt = tf.train.adam(LEARNING_RATE, 0.9, 0.99, 1e-8);
  return {
    parameterCount: vars.reduce((s, v) => s + v.size, 0),
    step: async () => {
      const loss = opt.minimize(lossFn, true, vars)!;
      const v = (await loss.data())[0]!;
      loss.dispose();
      return v;
    },
    dispose: () => {
      opt.dispose();
      tf.dispose([...vars, x, target, dist]);
    },
  };
}
