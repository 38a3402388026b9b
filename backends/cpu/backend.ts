/**
 * The CPU reference backends: readable typed-array kernels, the living definition of every
 * primitive. `cpu` stores float32, `cpu64` runs the same kernels over float64 (for derivative
 * checks against finite differences).
 */
import type { Backend, KernelInput, KernelTable } from '../../core/backend.js';
import { countKernels } from '../../core/compile/count.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel, conv2dKernel } from './conv.js';
import { binaryFns, compareFns, mapBinary, mapUnary, mapWhere, unaryFns, type BinaryFn, type UnaryFn } from './elementwise.js';
import { gemm } from './gemm.js';
import { broadcastKernel, concatKernel, padKernel, permuteKernel, sliceKernel } from './movement.js';
import { reduceArgmax, reduceMax, reduceSum } from './reduce.js';
import { compileFusedLoop, type FusedLoop } from './fused.js';
import { CpuStorage, type Alloc, type CpuHandle, type FloatArray } from './storage.js';

type In = readonly KernelInput<CpuHandle>[];

/** Makes a CPU backend storing values in arrays made by `alloc`. */
export function makeCpuBackend(name: string, alloc: Alloc, precision: 'float32' | 'float64'): Backend<CpuHandle> {
  const storage = new CpuStorage(alloc);
  const make = (shape: Shape, fill: (out: FloatArray) => void): CpuHandle => {
    const out = storage.take(sizeOf(shape));
    fill(out);
    return storage.wrap(out);
  };
  const unary = (f: UnaryFn) => (inputs: In, outShape: Shape) => make(outShape, (out) => mapUnary(out, inputs[0]!.handle.data, f));
  const binary = (f: BinaryFn) => (inputs: In, outShape: Shape) =>
    make(outShape, (out) => mapBinary(out, outShape, inputs[0]!.handle.data, inputs[0]!.shape, inputs[1]!.handle.data, inputs[1]!.shape, f));

  const table: KernelTable<CpuHandle> = {
    neg: unary(unaryFns.neg),
    exp: unary(unaryFns.exp),
    log: unary(unaryFns.log),
    sqrt: unary(unaryFns.sqrt),
    abs: unary(unaryFns.abs),
    sign: unary(unaryFns.sign),
    add: binary(binaryFns.add),
    sub: binary(binaryFns.sub),
    mul: binary(binaryFns.mul),
    div: binary(binaryFns.div),
    pow: binary(binaryFns.pow),
    compare: (inputs, outShape, p) => binary(compareFns[p.op])(inputs, outShape),
    where: ([c, a, b], outShape) =>
      make(outShape, (out) => mapWhere(out, outShape, c!.handle.data, c!.shape, a!.handle.data, a!.shape, b!.handle.data, b!.shape)),
    sum: ([x], outShape, p) => make(outShape, (out) => reduceSum(out, x!.handle.data, x!.shape, p.axes)),
    max: ([x], outShape, p) => make(outShape, (out) => reduceMax(out, x!.handle.data, x!.shape, p.axes)),
    argmax: ([x], outShape, p) => make(outShape, (out) => reduceArgmax(out, x!.handle.data, x!.shape, p.axis)),
    // NOTE: reshape shares the immutable array; only the handle is new.
    reshape: ([x]) => storage.wrap(x!.handle.data),
    broadcast: ([x], outShape) => make(outShape, (out) => broadcastKernel(out, outShape, x!.handle.data, x!.shape)),
    permute: ([x], outShape, p) => make(outShape, (out) => permuteKernel(out, x!.handle.data, x!.shape, p.perm)),
    pad: ([x], outShape, p) => make(outShape, (out) => padKernel(out, outShape, x!.handle.data, x!.shape, p.widths, p.value)),
    slice: ([x], outShape, p) => make(outShape, (out) => sliceKernel(out, outShape, x!.handle.data, x!.shape, p.begin)),
    concat: (xs, outShape, p) => make(outShape, (out) => concatKernel(out, outShape, xs.map((x) => ({ data: x.handle.data, shape: x.shape })), p.axis)),
    matmul: ([a, b], outShape, p) =>
      make(outShape, (out) => {
        const [batch, m, n] = outShape as [number, number, number];
        const k = p.transA ? a!.shape[1]! : a!.shape[2]!;
        for (let i = 0; i < batch; i++) {
          gemm(m, n, k, { data: a!.handle.data, offset: i * m * k, trans: p.transA }, { data: b!.handle.data, offset: i * k * n, trans: p.transB }, out, i * m * n, false, alloc);
        }
      }),
    conv2d: ([x, w], outShape, p) => make(outShape, (out) => conv2dKernel(out, outShape, x!.handle.data, x!.shape, w!.handle.data, w!.shape, p, alloc)),
    conv2dBackpropInput: ([dy, w], outShape, p) =>
      make(outShape, (out) => conv2dBackpropInputKernel(out, outShape, dy!.handle.data, dy!.shape, w!.handle.data, w!.shape, p, alloc)),
    conv2dBackpropFilter: ([x, dy], outShape, p) =>
      make(outShape, (out) => conv2dBackpropFilterKernel(out, outShape, x!.handle.data, x!.shape, dy!.handle.data, dy!.shape, p, alloc)),
  };

  const counter = { kernels: 0 };
  // NOTE: reshape shares the array and runs nothing: it is not counted as a kernel.
  const kernels = countKernels(table, counter, ['reshape']);

  return {
    name,
    upload: (values, shape) => {
      const data = storage.take(sizeOf(shape));
      for (let i = 0; i < data.length; i++) data[i] = values[i]!;
      return storage.wrap(data);
    },
    read: async (h) => h.data.slice(),
    readSync: (h) => h.data.slice(),
    release: (h) => storage.release(h),
    memory: () => storage.memory(),
    describe: async () => ({ name, mode: 'cpu', kernelClass: 'typed-array reference kernels', precision }),
    stats: () => ({ kernels: counter.kernels, allocations: storage.allocations }),
    kernels,
    compileFused: (kernel) => {
      const loop = compileFusedLoop(kernel, precision === 'float32');
      const n = sizeOf(kernel.shape);
      return (inputs) => {
        counter.kernels++;
        const outs = kernel.outputs.map(() => storage.take(n));
        loop(inputs.map((x) => x.handle.data), outs);
        return outs.map((o) => storage.wrap(o));
      };
    },
    compileFusedBatch: ({ kernel, sizes }) => {
      // One loop per distinct segment size: the same program over [n] (inputs in element order or
      // single values), so each segment computes exactly what compileFused would.
      const loops = new Map<number, FusedLoop>();
      const loopFor = (n: number): FusedLoop => {
        let loop = loops.get(n);
        if (!loop) {
          loop = compileFusedLoop({ ...kernel, shape: [n], inputs: kernel.inputs.map((inp) => (inp.strides[0] === 0 ? inp : { shape: [n], strides: [1] })) }, precision === 'float32');
          loops.set(n, loop);
        }
        return loop;
      };
      return (segments) => {
        counter.kernels++;
        return segments.map((inputs, s) => {
          const n = sizes[s]!;
          const outs = kernel.outputs.map(() => storage.take(n));
          loopFor(n)(inputs.map((x) => x.handle.data), outs);
          return outs.map((o) => storage.wrap(o));
        });
      };
    },
  };
}

/** The float32 reference backend. */
export const createCpuBackend = (): Backend<CpuHandle> => makeCpuBackend('cpu', (n) => new Float32Array(n), 'float32');
/** The float64 reference backend (derivative checks). */
export const createCpu64Backend = (): Backend<CpuHandle> => makeCpuBackend('cpu64', (n) => new Float64Array(n), 'float64');
