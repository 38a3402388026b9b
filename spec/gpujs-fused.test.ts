/**
 * `compileFused` of the gpu.js backend on every mode available here (`cpu` and `webasm` always,
 * `headlessgl` under xvfb-run with the gl build — required with CI=true —, `webgpu` with an
 * adapter): random fused programs (seeded fast-check, shapes from a small fixed pool: each new
 * program and shape is a kernel compile) against the same primitives run one by one through the
 * backend's own `kernels` on the same mode — bit for bit on `cpu` and `webasm`, within the mode's
 * tolerance on GL and WebGPU —, the kernel class that ran, the `stats()` counters, staging of
 * kernels reading more than MAX_KERNEL_INPUTS arrays, scalars and zero-size outputs answered
 * without a launch, refused kernels, and `compileFusedBatch` (each segment as `compileFused` over
 * it alone, one execution per call, empty segments launching nothing).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { KernelInput } from '../core/backend.js';
import type { FusedInput, FusedKernel, FusedOp } from '../core/compile/fused.js';
import { BackendError } from '../core/errors.js';
import type { BinaryPrim, CompareOp, UnaryPrim } from '../core/primitives.js';
import { broadcastShapes, broadcastStrides, sameShape, sizeOf, stridesOf, type Shape } from '../core/shape.js';
import type { GpujsHandle } from '../backends/gpujs/buffers.js';
import { createGpujsBackend, type GpujsBackend } from '../backends/gpujs/backend.js';
import { MAX_KERNEL_INPUTS, type GpujsRunMode } from '../backends/gpujs/settings.js';
import { requireMode } from './conformance-gpujs.js';

/** How a test input is stored and read. */
type View = 'full' | 'broadcast' | 'scalar' | 'transposed';

/** A fused kernel with the storage of its inputs, as the test makes it. */
interface Case {
  readonly kernel: FusedKernel;
  readonly views: readonly View[];
  /** Values of each input, row-major in its own shape. */
  readonly values: readonly Float32Array[];
}

/** The fixed pool of kernel shapes (rank 1 to 5; odd extents; extent-1 axes). */
const SHAPES: readonly Shape[] = [[7], [3, 5], [2, 3, 4], [2, 1, 3, 1, 2]];

const UNARY: readonly UnaryPrim[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign'];
const BINARY: readonly BinaryPrim[] = ['add', 'sub', 'mul', 'div', 'pow'];
const COMPARE: readonly CompareOp[] = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'];
/** Constants (as host numbers: 0.1 is not a float32). */
const CONSTS: readonly number[] = [0.1, -1.5, 2, 0, 3];

/** Deterministic values in [-2, 2), a few of them exactly 0 and integers (pow, sign, compare). */
function valuesFor(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Float32Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    return i % 5 === 4 ? Math.round(u * 4 - 2) : u * 4 - 2;
  });
}

/** An input of `view` for a kernel of `shape`: its own shape and the strides it is read with. */
function inputFor(view: View, shape: Shape, k: number): FusedInput {
  switch (view) {
    case 'full':
      return { shape, strides: stridesOf(shape) };
    case 'scalar':
      return { shape: [], strides: shape.map(() => 0) };
    case 'broadcast': {
      const own = shape.map((e, d) => ((d + k) % 2 === 0 ? 1 : e));
      return { shape: own, strides: broadcastStrides(own, shape) };
    }
    case 'transposed': {
      // stored with the axes reversed: output axis d is stored axis n-1-d
      const own = [...shape].reverse();
      const s = stridesOf(own);
      return { shape: own, strides: shape.map((_, d) => s[shape.length - 1 - d]!) };
    }
  }
}

/** A random program: fast-check draws choices, turned into operands of earlier instructions. */
const caseArb: fc.Arbitrary<Case> = fc
  .record({
    shape: fc.nat(SHAPES.length - 1),
    views: fc.array(fc.constantFrom<View>('full', 'full', 'broadcast', 'scalar', 'transposed'), { minLength: 1, maxLength: 4 }),
    ops: fc.array(fc.record({ kind: fc.nat(9), pick: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat() }), { minLength: 1, maxLength: 7 }),
    outputs: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    seed: fc.nat(1000),
  })
  .map(({ shape: si, views, ops: choices, outputs, seed }): Case => {
    const shape = SHAPES[si]!;
    const inputs = views.map((v, k) => inputFor(v, shape, k));
    const ops: FusedOp[] = views.map((_, k) => ({ kind: 'load', input: k }));
    // operands favour recent values (as chains do)
    const earlier = (n: number): number => ops.length - 1 - (n % Math.min(ops.length, 4));
    for (const c of choices) {
      if (c.kind === 0) ops.push({ kind: 'const', value: CONSTS[c.pick % CONSTS.length]! });
      else if (c.kind <= 3) ops.push({ kind: 'unary', op: UNARY[c.pick % UNARY.length]!, a: earlier(c.a) });
      else if (c.kind <= 6) ops.push({ kind: 'binary', op: BINARY[c.pick % BINARY.length]!, a: earlier(c.a), b: earlier(c.b) });
      else if (c.kind <= 8) ops.push({ kind: 'compare', op: COMPARE[c.pick % COMPARE.length]!, a: earlier(c.a), b: earlier(c.b) });
      else ops.push({ kind: 'where', c: earlier(c.c), a: earlier(c.a), b: earlier(c.b) });
    }
    const last = ops.length - 1;
    const outs = [last, ...outputs.slice(1).map((o) => last - (o % ops.length))];
    return {
      kernel: { shape, inputs, ops, outputs: outs },
      views,
      values: inputs.map((inp, k) => valuesFor(sizeOf(inp.shape), seed * 31 + k)),
    };
  });

/** Uploads a case's inputs. */
function uploadAll(b: GpujsBackend, c: Case): KernelInput<GpujsHandle>[] {
  return c.kernel.inputs.map((inp, k) => ({ handle: b.upload(c.values[k]!, inp.shape), shape: inp.shape }));
}

/**
 * The reference: the same program as primitives run one by one through `b.kernels`, each value
 * with its own (broadcast) shape as a traced program has it; transposed inputs are permuted first.
 */
function unfused(b: GpujsBackend, c: Case, inputs: readonly KernelInput<GpujsHandle>[]): GpujsHandle[] {
  const { kernel } = c;
  const k = b.kernels;
  const made: GpujsHandle[] = [];
  const vals: KernelInput<GpujsHandle>[] = [];
  const value = (op: FusedOp): KernelInput<GpujsHandle> => {
    const keep = (handle: GpujsHandle, shape: Shape): KernelInput<GpujsHandle> => {
      made.push(handle);
      return { handle, shape };
    };
    const bin = (a: KernelInput<GpujsHandle>, x: KernelInput<GpujsHandle>) => broadcastShapes('test', a.shape, x.shape);
    switch (op.kind) {
      case 'load': {
        const x = inputs[op.input]!;
        if (c.views[op.input] !== 'transposed') return x;
        const perm = kernel.shape.map((_, d) => kernel.shape.length - 1 - d);
        return keep(k.permute([x], kernel.shape, { perm }), kernel.shape);
      }
      case 'const':
        return keep(b.upload([op.value], []), []);
      case 'unary': {
        const a = vals[op.a]!;
        return keep(k[op.op]([a], a.shape, {}), a.shape);
      }
      case 'binary': {
        const [a, x] = [vals[op.a]!, vals[op.b]!];
        const s = bin(a, x);
        return keep(k[op.op]([a, x], s, {}), s);
      }
      case 'compare': {
        const [a, x] = [vals[op.a]!, vals[op.b]!];
        const s = bin(a, x);
        return keep(k.compare([a, x], s, { op: op.op }), s);
      }
      case 'where': {
        const [cv, a, x] = [vals[op.c]!, vals[op.a]!, vals[op.b]!];
        const s = broadcastShapes('test', cv.shape, bin(a, x));
        return keep(k.where([cv, a, x], s, {}), s);
      }
    }
  };
  for (const op of kernel.ops) vals.push(value(op));
  const outs = kernel.outputs.map((o) => {
    const v = vals[o]!;
    return sameShape(v.shape, kernel.shape) ? v.handle : k.broadcast([v], kernel.shape, { shape: kernel.shape });
  });
  // outputs that are intermediates (or inputs) get a handle of their own
  const result = outs.map((h) => (made.includes(h) || inputs.some((x) => x.handle === h) ? k.reshape([{ handle: h, shape: kernel.shape }], kernel.shape, { shape: kernel.shape }) : h));
  for (const h of made) b.release(h);
  return result;
}

/**
 * The first element that disagrees, or -1. With `tol` = 0 every element must be bitwise equal
 * (NaN included). Otherwise a finite reference must be matched by a finite value within `tol`
 * relative to max(1, |ref|), and elements whose reference is NaN or ±∞ are not compared.
 *
 * NOTE: GL and WGSL compilers may simplify a fused program across what were separate kernels
 * (`a − a` → 0 where `a` is ∞, a multiply and an add contracted into one fma); the exact
 * semantics are asserted bit for bit on `cpu` and `webasm`, which run the same plans and code.
 */
function firstMismatch(got: ArrayLike<number>, ref: ArrayLike<number>, tol: number): number {
  for (let i = 0; i < ref.length; i++) {
    const [g, r] = [got[i]!, ref[i]!];
    if (Object.is(g, r)) continue;
    if (tol > 0 && (!Number.isFinite(r) || (Number.isFinite(g) && Math.abs(g - r) <= tol * Math.max(1, Math.abs(r))))) continue;
    return i;
  }
  return -1;
}

/** Per mode: the tolerance of fused against unfused (0: bit for bit; see `firstMismatch`). */
const MODES: readonly (readonly [GpujsRunMode, number])[] = [['cpu', 0], ['webasm', 0], ['headlessgl', 1e-4], ['webgpu', 1e-4]];

function fusedTests(mode: GpujsRunMode, tol: number): void {
  describe(`gpujs:${mode} compileFused`, () => {
    let b: GpujsBackend;
    let started = 0;
    before(async () => {
      started = performance.now();
      b = await createGpujsBackend({ mode });
    });
    after(async () => {
      const s = b.stats();
      console.log(`gpujs:${mode} fused: ${((performance.now() - started) / 1000).toFixed(1)} s, ${s.compiles} kernel compiles, ${s.launches} gpu.js kernels run`);
      await b.dispose();
    });

    /** Every recorded launch ran on the mode's kernel class (or the host, or no kernel). */
    const assertClasses = (label: string): void => {
      const s = b.stats();
      assert.deepEqual(s.fallbacks, [], `${label}: gpu.js degraded a kernel`);
      for (const [what, classes] of Object.entries(s.byPrim)) {
        for (const cls of Object.keys(classes)) {
          assert.ok(cls === b.expectedKernelClass || cls === 'host' || cls === 'view', `${label}: ${what} ran on ${cls}, expected ${b.expectedKernelClass}`);
        }
      }
    };
    const fusedLaunches = (): number => b.stats().byPrim['fused']?.[b.expectedKernelClass] ?? 0;
    const readAll = (hs: readonly GpujsHandle[]): Promise<(Float32Array | Float64Array)[]> => Promise.all(hs.map((h) => b.read(h)));
    const releaseAll = (hs: readonly (GpujsHandle | KernelInput<GpujsHandle>)[]): void => hs.forEach((h) => b.release('handle' in h ? h.handle : h));

    /** Runs a case fused and unfused; returns the kernel counts of both. */
    const check = async (c: Case, label: string): Promise<{ fused: number; unfused: number; launches: number }> => {
      const inputs = uploadAll(b, c);
      b.resetPrimStats();
      const k0 = b.stats().kernels;
      const outs = b.compileFused(c.kernel)(inputs);
      const k1 = b.stats().kernels;
      const launches = fusedLaunches();
      assertClasses(`${label} (fused)`);
      const refs = unfused(b, c, inputs);
      const k2 = b.stats().kernels;
      assertClasses(`${label} (unfused)`);
      const [got, want] = [await readAll(outs), await readAll(refs)];
      got.forEach((g, j) => {
        assert.equal(g.length, sizeOf(c.kernel.shape), `${label}: output ${j} size`);
        const i = firstMismatch(g, want[j]!, tol);
        assert.equal(i, -1, `${label}: output ${j} element ${i}: fused ${g[i]} vs unfused ${want[j]![i]} on gpujs:${mode}${tol === 0 ? ' (bit for bit)' : ` (tolerance ${tol})`}`);
      });
      releaseAll([...outs, ...refs, ...inputs]);
      return { fused: k1 - k0, unfused: k2 - k1, launches };
    };

    test('random fused programs give the values of their primitives run one by one', async () => {
      const memory = b.memory().buffers;
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const label = showCase(c);
          const n = await check(c, label);
          const distinct = new Set(c.kernel.outputs).size;
          assert.ok(n.launches <= distinct, `${label}: ${n.launches} kernels for ${distinct} outputs`);
          assert.ok(n.fused <= n.unfused, `${label}: fused ran ${n.fused} kernels, the primitives ${n.unfused}`);
        }),
        { seed: 20260611, numRuns: mode === 'cpu' || mode === 'webasm' ? 40 : 12 },
      );
      assert.equal(b.memory().buffers, memory, 'every handle released');
    });

    test('stats(): one kernel per output; WebGPU: one submission per batch and pooled outputs', async () => {
      // a shape outside the pool: no kernel of it was compiled before
      const shape = [5, 3];
      const x: FusedInput = { shape, strides: [3, 1] };
      const y: FusedInput = { shape: [3], strides: [0, 1] };
      const kernel: FusedKernel = {
        shape,
        inputs: [x, y],
        ops: [
          { kind: 'load', input: 0 }, { kind: 'load', input: 1 },
          { kind: 'binary', op: 'mul', a: 0, b: 1 }, { kind: 'unary', op: 'exp', a: 2 }, { kind: 'binary', op: 'add', a: 3, b: 0 },
        ],
        outputs: [3, 4],
      };
      const c: Case = { kernel, views: ['full', 'broadcast'], values: [valuesFor(15, 1), valuesFor(3, 2)] };
      const inputs = uploadAll(b, c);
      const run = b.compileFused(kernel);
      for (const round of [1, 2]) {
        const s0 = b.stats();
        const outs = run(inputs);
        const s1 = b.stats();
        assert.equal(s1.launches - s0.launches, 2, `round ${round}: one gpu.js kernel per output`);
        assert.equal(s1.kernels - s0.kernels, 1, `round ${round}: one fused execution`);
        if (mode === 'webgpu') assert.equal(s1.submits! - s0.submits!, 0, `round ${round}: the runs are recorded, not submitted, until the code that queued them returns`);
        else assert.equal(s1.submits, undefined, 'no queue outside WebGPU');
        const fresh = s1.allocations - s0.allocations;
        // GL kernels render into their own texture again once the result on it was deleted; the
        // WebGPU queue hands the first round's released buffers to the second round's outputs
        if (mode === 'headlessgl' && round === 2) assert.ok(fresh <= 2, `round ${round}: ${fresh} fresh textures`);
        else if (mode === 'webgpu' && round === 2) assert.equal(fresh, 0, `round ${round}: both outputs from the pool`);
        else assert.equal(fresh, 2, `round ${round}: two fresh output buffers`);
        assert.equal(s1.compiles - s0.compiles, round === 1 ? 2 : 0, `round ${round}: compiles`);
        if (mode === 'webgpu') {
          await readAll(outs);
          assert.equal(b.stats().submits! - s0.submits!, 1, `round ${round}: both runs and the reads' copies in one submission`);
        }
        releaseAll(outs);
        await b.settle();
      }
      // the same program as primitives: mul, exp, add
      const s0 = b.stats();
      const refs = unfused(b, c, inputs);
      assert.equal(b.stats().kernels - s0.kernels, 3, 'the primitives run one kernel each');
      releaseAll([...refs, ...inputs]);
      assertClasses('stats');
    });

    test(`a cone reading more than ${MAX_KERNEL_INPUTS} arrays is split into kernels that fit`, async () => {
      const shape = [2, 3, 4];
      const views = Array.from({ length: 9 }, (_, k): View => (k % 3 === 2 ? 'broadcast' : 'full'));
      const inputs = views.map((v, k) => inputFor(v, shape, k));
      // %9 … %16: a chain over the nine inputs; %17 = exp(chain), %18 = %17 − in0
      const ops: FusedOp[] = inputs.map((_, k) => ({ kind: 'load', input: k }));
      for (let k = 1; k < inputs.length; k++) ops.push({ kind: 'binary', op: k % 2 ? 'add' : 'mul', a: k === 1 ? 0 : ops.length - 1, b: k });
      ops.push({ kind: 'unary', op: 'exp', a: ops.length - 1 });
      ops.push({ kind: 'binary', op: 'sub', a: ops.length - 1, b: 0 });
      const kernel: FusedKernel = { shape, inputs, ops, outputs: [17, 18] };
      const n1 = await check({ kernel, views, values: inputs.map((inp, k) => valuesFor(sizeOf(inp.shape), 40 + k)) }, 'nine inputs');
      // the chain over in0…in5 stored first (six arrays); then %17 and %18 read it, in6…in8 (and in0)
      assert.equal(n1.launches, 3, `kernels launched: ${n1.launches}`);
    });

    test('scalars are answered on the host without launching a kernel, as their primitives', async () => {
      const kernel: FusedKernel = {
        shape: [1, 1],
        inputs: [{ shape: [], strides: [0, 0] }, { shape: [1], strides: [0, 0] }],
        ops: [
          { kind: 'load', input: 0 }, { kind: 'load', input: 1 }, { kind: 'const', value: 0.1 },
          { kind: 'binary', op: 'add', a: 0, b: 2 }, { kind: 'unary', op: 'exp', a: 3 }, { kind: 'binary', op: 'pow', a: 4, b: 1 },
        ],
        outputs: [5, 4],
      };
      const compiles = b.stats().compiles;
      const n1 = await check({ kernel, views: ['scalar', 'scalar'], values: [Float32Array.of(0.5), Float32Array.of(3)] }, 'scalars');
      assert.equal(n1.launches, 0, 'no fused kernel launched');
      assert.equal(n1.fused, 1, 'one fused execution: add, exp and pow answered on the host');
      assert.equal(b.stats().compiles, compiles, 'nothing compiled');
    });

    test('a broadcast constant and a strided input are stored by kernels; a contiguous input is a view', async () => {
      const shape = [3, 4];
      const kernel: FusedKernel = {
        shape,
        inputs: [inputFor('full', shape, 0), inputFor('transposed', shape, 1)],
        ops: [{ kind: 'load', input: 0 }, { kind: 'load', input: 1 }, { kind: 'const', value: -1.5 }],
        outputs: [0, 1, 2, 1],
      };
      const n1 = await check({ kernel, views: ['full', 'transposed'], values: [valuesFor(12, 5), valuesFor(12, 6)] }, 'copies');
      assert.equal(n1.launches, 2, 'a gather of the transposed input and a fill; the contiguous input and the repeated output are views');
    });

    const exactModes = mode === 'cpu' || mode === 'webasm';
    test('float32 rounding after every operation (gpu.js cpu mode computes in float64)', { skip: exactModes ? false : 'cpu and webasm only: GL and WGSL compilers may reassociate a fused (x + 1) − x' }, async () => {
      // (2^24 + 1) − 2^24 is 0 in float32 and 1 in float64
      const kernel: FusedKernel = {
        shape: [4],
        inputs: [{ shape: [4], strides: [1] }],
        ops: [{ kind: 'load', input: 0 }, { kind: 'const', value: 1 }, { kind: 'binary', op: 'add', a: 0, b: 1 }, { kind: 'binary', op: 'sub', a: 2, b: 0 }],
        outputs: [3],
      };
      const x = b.upload([2 ** 24, 2 ** 24, 1, 0.1], [4]);
      const [y] = b.compileFused(kernel)([{ handle: x, shape: [4] }]);
      const got = Array.from(await b.read(y!));
      assert.equal(got[0], 0, `(2^24 + 1) − 2^24 = ${got[0]} on gpujs:${mode}`);
      assert.equal(got[2], 1, '(1 + 1) − 1');
      const f = Math.fround(0.1);
      assert.equal(got[3], Math.fround(Math.fround(f + 1) - f), '(0.1 + 1) − 0.1 rounded twice');
      releaseAll([x, y!]);
    });

    test('zero-size outputs are empty host buffers (gpu.js throws on them)', async () => {
      const shape = [0, 3];
      const kernel: FusedKernel = {
        shape,
        inputs: [{ shape, strides: [3, 1] }, { shape: [3], strides: [0, 1] }],
        ops: [{ kind: 'load', input: 0 }, { kind: 'load', input: 1 }, { kind: 'binary', op: 'mul', a: 0, b: 1 }, { kind: 'unary', op: 'exp', a: 2 }],
        outputs: [3, 2],
      };
      const x = b.upload([], shape);
      const w = b.upload([1, 2, 3], [3]);
      const k0 = b.stats().launches;
      const outs = b.compileFused(kernel)([{ handle: x, shape }, { handle: w, shape: [3] }]);
      assert.equal(b.stats().launches, k0, 'no gpu.js kernel launched');
      for (const o of await readAll(outs)) assert.equal(o.length, 0, 'empty');
      releaseAll([...outs, x, w]);
    });

    test('compileFusedBatch: each segment as compileFused over it alone, one execution per call, empty segments launch nothing', async () => {
      // segments of every kind: empty, one element (answered on the host), several sizes, a size twice
      const sizes = [7, 0, 1, 3, 7, 5, 0];
      const cases = fc.sample(caseArb, { seed: 20260612, numRuns: exactModes ? 8 : 3 });
      for (const [ci, c] of cases.entries()) {
        // contiguous and single-value inputs only: 'scalar' views are single values, the others elements
        const reads = c.views.map((v): 'elements' | 'single' => (v === 'scalar' ? 'single' : 'elements'));
        const over = (n: number): FusedKernel => ({
          shape: [n],
          inputs: reads.map((r) => (r === 'single' ? { shape: [1], strides: [0] } : { shape: [n], strides: [1] })),
          ops: c.kernel.ops,
          outputs: c.kernel.outputs,
        });
        const segments = sizes.map((n, s) => reads.map((r, k) => {
          const shape = r === 'single' ? [] : s % 2 ? [n, 1] : [n];
          return { handle: b.upload(valuesFor(r === 'single' ? 1 : n, 100 * ci + 10 * s + k), shape), shape };
        }));
        const label = `batch ${ci}: ${showCase(c)}`;
        const run = b.compileFusedBatch({ kernel: over(sizes[0]!), sizes });
        for (const round of [1, 2]) {
          b.resetPrimStats();
          const s0 = b.stats();
          const outs = run(segments);
          const s1 = b.stats();
          assert.equal(s1.kernels - s0.kernels, 1, `${label}, round ${round}: one execution per call`);
          assertClasses(`${label} (batch)`);
          // the reference: each segment alone (its own compileFused runner)
          const alone = sizes.map((n, s) => b.compileFused(over(n))(segments[s]!));
          const s2 = b.stats();
          assert.equal(s1.launches - s0.launches, s2.launches - s1.launches, `${label}, round ${round}: the launches of the segments alone`);
          assert.equal(s2.kernels - s1.kernels, sizes.length, 'one execution per segment alone');
          assert.equal(outs.length, sizes.length);
          for (const [s, n] of sizes.entries()) {
            const [got, want] = [await readAll(outs[s]!), await readAll(alone[s]!)];
            assert.equal(got.length, c.kernel.outputs.length);
            got.forEach((g, j) => {
              assert.equal(g.length, n, `${label}: segment ${s} output ${j} size`);
              const i = firstMismatch(g, want[j]!, tol);
              assert.equal(i, -1, `${label}: segment ${s} output ${j} element ${i}: batch ${g[i]} vs alone ${want[j]![i]} on gpujs:${mode}${tol === 0 ? ' (bit for bit)' : ` (tolerance ${tol})`}`);
            });
          }
          releaseAll([...outs.flat(), ...alone.flat()]);
        }
        releaseAll(segments.flat());
      }
      // only empty segments: empty outputs, no launch, one execution
      const empty: FusedKernel = { shape: [0], inputs: [{ shape: [0], strides: [1] }, { shape: [1], strides: [0] }], ops: [{ kind: 'load', input: 0 }, { kind: 'load', input: 1 }, { kind: 'binary', op: 'mul', a: 0, b: 1 }], outputs: [2, 0] };
      const x = b.upload([], [0]);
      const w = b.upload([2], []);
      const s0 = b.stats();
      const outs = b.compileFusedBatch({ kernel: empty, sizes: [0, 0] })([[{ handle: x, shape: [0] }, { handle: w, shape: [] }], [{ handle: x, shape: [0] }, { handle: w, shape: [] }]]);
      const s1 = b.stats();
      assert.deepEqual([s1.kernels - s0.kernels, s1.launches - s0.launches], [1, 0], 'one execution, no launch');
      for (const o of await readAll(outs.flat())) assert.equal(o.length, 0, 'empty');
      // refused: a wrong element count (nothing counted), a rank-2 program
      assert.throws(() => b.compileFusedBatch({ kernel: empty, sizes: [0, 0] })([[{ handle: w, shape: [] }, { handle: w, shape: [] }], []]), BackendError);
      assert.equal(b.stats().kernels, s1.kernels, 'a refused call is not counted');
      assert.throws(() => b.compileFusedBatch({ kernel: { ...empty, shape: [0, 1] }, sizes: [0] }), BackendError);
      releaseAll([...outs.flat(), x, w]);
    });

    test('kernels the backend cannot run are refused with a BackendError', () => {
      const base = { shape: [4], inputs: [{ shape: [4], strides: [1] }], outputs: [1] };
      const bad: [string, FusedKernel][] = [
        ['an operand after its instruction', { ...base, ops: [{ kind: 'load', input: 0 }, { kind: 'unary', op: 'neg', a: 1 }] }],
        ['a load of a missing input', { ...base, ops: [{ kind: 'load', input: 0 }, { kind: 'load', input: 1 }] }],
        ['strides reading past the input', { ...base, inputs: [{ shape: [4], strides: [2] }], ops: [{ kind: 'load', input: 0 }, { kind: 'unary', op: 'neg', a: 0 }] }],
        ['more than 2^24 elements', { shape: [2 ** 24 + 1], inputs: [{ shape: [], strides: [0] }], ops: [{ kind: 'load', input: 0 }, { kind: 'unary', op: 'exp', a: 0 }], outputs: [1] }],
      ];
      for (const [label, kernel] of bad) assert.throws(() => b.compileFused(kernel), BackendError, label);
    });
  });
}

/** A short description of a case for messages. */
function showCase(c: Case): string {
  const ops = c.kernel.ops.map((o, i) => {
    switch (o.kind) {
      case 'load': return `%${i}=in${o.input}:${c.views[o.input]}`;
      case 'const': return `%${i}=${o.value}`;
      case 'unary': return `%${i}=${o.op}(%${o.a})`;
      case 'binary':
      case 'compare': return `%${i}=${o.op}(%${o.a},%${o.b})`;
      case 'where': return `%${i}=where(%${o.c},%${o.a},%${o.b})`;
    }
  });
  return `[${c.kernel.shape.join('x')}] ${ops.join(' ')} -> ${c.kernel.outputs.map((o) => `%${o}`).join(',')}`;
}

for (const [mode, tol] of MODES) {
  if (await requireMode(mode, 'compileFused tests')) fusedTests(mode, tol);
}
