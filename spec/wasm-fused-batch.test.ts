/**
 * The `wasm` backend's fused batches (`compileFusedBatch`: one fused program over several
 * independent segments, as an optimizer updates every parameter tensor) against `compileFused` of
 * the same program over each segment alone: bit for bit (Uint32 views, NaN payloads included), for
 * random programs over contiguous and single-value inputs, 1 to 40 segments of random sizes (0, 1,
 * 3, 5, small, and ≥ 65536 to be split among the threads), with 1 and 2 threads; one kernel
 * execution and one thread-pool job per call; an Adam-like update over a U-Net's parameter sizes;
 * programs calling JS functions; the static split (`batchShares`); reads the declaration leaves
 * open (`sizes[0]` = 1); refused batches; a runner whose module slot was reused.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createWasmBackend, type WasmBackend, type WasmHandle } from '../backends/wasm/backend.js';
import { batchShares, type SegmentRead } from '../backends/wasm/fused.js';
import { showFused, type FusedBatch, type FusedKernel, type FusedOp } from '../core/compile/fused.js';
import { BackendError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { arbProgram, bin, firstDiff, hexBits, konst, load, un, valuesFor } from './helpers/fused-programs.js';

/** A batch with its inputs' values. */
interface BatchCase {
  readonly batch: FusedBatch;
  /** How each input is read (in every segment). */
  readonly reads: readonly SegmentRead[];
  /** Per segment, per input: the values of its handle. */
  readonly data: readonly (readonly Float32Array[])[];
}

type Segment = { handle: WasmHandle; shape: Shape }[];

/** The kernel of a program over `n` elements, its inputs read as `reads` says. */
function kernelOver(n: number, reads: readonly SegmentRead[], ops: readonly FusedOp[], outputs: readonly number[]): FusedKernel {
  return { shape: [n], inputs: reads.map((r) => (r === 'single' ? { shape: [1], strides: [0] } : { shape: [n], strides: [1] })), ops, outputs };
}

/** A batch of a program over segments of `sizes` elements, with seeded values. */
function batchOf(sizes: readonly number[], reads: readonly SegmentRead[], ops: readonly FusedOp[], outputs: readonly number[], seed = 7): BatchCase {
  return {
    batch: { kernel: kernelOver(sizes[0] ?? 0, reads, ops, outputs), sizes },
    reads,
    data: sizes.map((n, s) => reads.map((r, k) => valuesFor(r === 'single' ? 1 : n, seed + 101 * s + k))),
  };
}

/** A shape of `n` elements of varying rank (the runner gets the tensors' real shapes). */
function shapeOf(n: number, s: number): Shape {
  if (s % 3 === 1) return [1, n];
  if (s % 3 === 2 && n % 2 === 0 && n > 0) return [2, n / 2, 1];
  return [n];
}

const uploadSegments = (be: WasmBackend, c: BatchCase): Segment[] =>
  c.data.map((vals, s) => vals.map((v) => {
    const shape = v.length === 1 ? (s % 2 ? [] : [1, 1]) : shapeOf(v.length, s);
    return { handle: be.upload(v, shape), shape };
  }));

const readAll = (be: WasmBackend, hs: readonly WasmHandle[]): Float32Array[] => hs.map((h) => be.readSync!(h) as Float32Array);

/** What one batch call did. */
interface BatchRun {
  readonly outs: Float32Array[][];
  /** `stats().kernels` and thread-pool jobs (parallel ones) the call added. */
  readonly kernels: number;
  readonly jobs: number;
  readonly parallel: number;
}

/** Runs a batch once on fresh uploads; reads and releases everything. */
function runBatch(be: WasmBackend, c: BatchCase): BatchRun {
  const segments = uploadSegments(be, c);
  const runner = be.compileFusedBatch(c.batch);
  const counts = be.runtime.pool.counts;
  const [k0, j0, p0] = [be.stats().kernels, counts.jobs, counts.parallel];
  const made = runner(segments);
  const [k1, j1, p1] = [be.stats().kernels, counts.jobs, counts.parallel];
  try {
    assert.equal(made.length, c.batch.sizes.length, 'one list of outputs per segment');
    made.forEach((m) => assert.equal(m.length, c.batch.kernel.outputs.length, 'one output per kernel output'));
    return { outs: made.map((m) => readAll(be, m)), kernels: k1 - k0, jobs: j1 - j0, parallel: p1 - p0 };
  } finally {
    for (const h of made.flat()) be.release(h);
    for (const x of segments.flat()) be.release(x.handle);
  }
}

/** The reference: `compileFused` of the program over each segment alone, on the same uploads. */
function runAlone(be: WasmBackend, c: BatchCase): Float32Array[][] {
  const segments = uploadSegments(be, c);
  try {
    return c.batch.sizes.map((n, s) => {
      const outs = be.compileFused(kernelOver(n, c.reads, c.batch.kernel.ops, c.batch.kernel.outputs))(segments[s]!);
      try {
        return readAll(be, outs);
      } finally {
        for (const h of outs) be.release(h);
      }
    });
  } finally {
    for (const x of segments.flat()) be.release(x.handle);
  }
}

function assertSameBits(got: readonly (readonly Float32Array[])[], want: readonly (readonly Float32Array[])[], c: BatchCase, label: string): void {
  assert.equal(got.length, want.length, `${label}: segments`);
  got.forEach((outs, s) => outs.forEach((g, o) => {
    const n = c.batch.sizes[s]!;
    assert.equal(g.length, n, `${label}: segment ${s} output ${o} size`);
    const i = firstDiff(g, want[s]![o]!);
    if (i >= 0) {
      const w = want[s]![o]![i]!;
      assert.fail(`${label}: segment ${s} (${n} elements) output ${o} element ${i}: batch ${g[i]} (0x${hexBits(g[i]!)}) ≠ alone ${w} (0x${hexBits(w)}) in ${showFused(c.batch.kernel)} over [${c.batch.sizes.join(', ')}]`);
    }
  }));
}

/** Checks a batch on a backend: one kernel, one job (none when empty), bits of each segment alone. */
function check(be: WasmBackend, c: BatchCase, label: string): BatchRun {
  const run = runBatch(be, c);
  const total = c.batch.sizes.reduce((a, n) => a + n, 0);
  assert.equal(run.kernels, 1, `${label}: stats().kernels counts one execution per call`);
  assert.equal(run.jobs, total > 0 ? 1 : 0, `${label}: thread-pool jobs for ${total} elements`);
  assertSameBits(run.outs, runAlone(be, c), c, label);
  return run;
}

/** Segment sizes: tiny ones, small ones, and large ones that are split among threads. */
const arbSize = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 3, 5) },
  { weight: 5, arbitrary: fc.integer({ min: 2, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65536, max: 90000 }) },
);

const arbBatch: fc.Arbitrary<BatchCase> = fc.record({
  sizes: fc.array(arbSize, { minLength: 1, maxLength: 40 }),
  reads: fc.array(fc.constantFrom<SegmentRead>('elements', 'elements', 'single'), { minLength: 1, maxLength: 4 }),
  extra: fc.integer({ min: 1, max: 12 }),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
}).chain(({ sizes, reads, extra, seed }) => arbProgram(reads.length, extra).map((prog) => batchOf(sizes, reads, prog.ops, prog.outputs, seed)));


/**
 * Adam's update as one program: inputs p, g, m, v (each parameter's elements), lr and the
 * bias-corrected step size (single values); outputs p', m', v'.
 */
function adamProgram(): { ops: FusedOp[]; outputs: number[]; reads: SegmentRead[] } {
  const ops: FusedOp[] = [load(0), load(1), load(2), load(3), load(4), load(5)];
  const push = (op: FusedOp) => ops.push(op) - 1;
  const b1 = push(konst(0.9)), nb1 = push(konst(0.1)), b2 = push(konst(0.999)), nb2 = push(konst(0.001)), eps = push(konst(1e-8));
  const m = push(bin('add', push(bin('mul', b1, 2)), push(bin('mul', nb1, 1))));
  const v = push(bin('add', push(bin('mul', b2, 3)), push(bin('mul', nb2, push(bin('mul', 1, 1))))));
  const step = push(bin('div', push(bin('mul', 5, m)), push(bin('add', push(un('sqrt', v)), eps))));
  const p = push(bin('sub', 0, push(bin('mul', 4, step))));
  return { ops, outputs: [p, m, v], reads: ['elements', 'elements', 'elements', 'elements', 'single', 'single'] };
}

/** The parameter sizes of a small U-Net (3×3 convolutions and their biases, 36 tensors). */
const UNET_SIZES = (() => {
  const sizes: number[] = [];
  const conv = (cin: number, cout: number) => sizes.push(9 * cin * cout, cout);
  for (const [a, b] of [[1, 16], [16, 16], [16, 32], [32, 32], [32, 64], [64, 64], [64, 128], [128, 128], [192, 64], [64, 64], [96, 32], [32, 32], [48, 16], [16, 16]] as const) conv(a, b);
  conv(16, 2);
  while (sizes.length < 36) sizes.push(sizes.length % 2 ? 1 : 2 * 16);
  return sizes;
})();

describe('wasm fused batches: each segment bit-identical to compileFused over it alone', () => {
  let one: WasmBackend;
  let two: WasmBackend;
  before(() => {
    one = createWasmBackend({ threads: 1 });
    two = createWasmBackend({ threads: 2 });
    assert.ok(two.waitForThreads(10_000), 'the worker thread did not start');
  });

  test('random programs over 1 to 40 segments of random sizes (1 and 2 threads), one job per call', () => {
    const parallel = two.runtime.pool.counts.parallel;
    const memory = [one.memory(), two.memory()];
    fc.assert(fc.property(arbBatch, (c) => {
      const a = check(one, c, '1 thread');
      assert.equal(a.parallel, 0, '1 thread: nothing ran in parallel');
      const b = check(two, c, '2 threads');
      assertSameBits(b.outs, a.outs, c, '2 threads vs 1');
    }), { seed: 42, numRuns: 60 });
    assert.ok(two.runtime.pool.counts.parallel > parallel, 'no batch ran on both threads');
    assert.deepEqual([one.memory(), two.memory()], memory, 'every buffer released');
  });

  test("Adam's update of a U-Net's 36 parameter tensors: one job on both threads, bits of each tensor alone", () => {
    const { ops, outputs, reads } = adamProgram();
    const c = batchOf(UNET_SIZES, reads, ops, outputs, 11);
    assert.equal(c.batch.sizes.length, 36);
    const b = check(two, c, 'adam, 2 threads');
    assert.equal(b.parallel, 1, 'the one job ran on both threads');
    assertSameBits(check(one, c, 'adam, 1 thread').outs, b.outs, c, 'adam: 1 thread vs 2');
  });

  test('programs calling JS functions: on every thread where they are Math builtins (exp, log, pow), else on one', () => {
    const sizes = [70000, 3, 0, 40000, 5];
    for (const op of ['exp', 'log', 'sign'] as const) {
      const c = batchOf(sizes, ['elements', 'single'], [load(0), load(1), bin('mul', 0, 1), un(op, 2), bin('pow', 3, 0), bin('add', 4, 1)], [5, 3]);
      const b = check(two, c, `${op}, 2 threads`);
      assert.equal(b.parallel, op === 'sign' ? 0 : 1, `${op}: ran on ${op === 'sign' ? 'the workers' : 'one thread'}`);
      assertSameBits(check(one, c, `${op}, 1 thread`).outs, b.outs, c, `${op}: 1 thread vs 2`);
    }
  });

  test('a segment split between the threads, and segments of 0, 1, 3 and 5 elements only', () => {
    const prog = [load(0), load(1), bin('div', 0, 1), un('sqrt', 2), { kind: 'where', c: 0, a: 3, b: 1 } as FusedOp];
    for (const sizes of [[200001], [3, 131075], [0, 1, 3, 5, 0, 5, 3, 1], [0], [0, 0]]) {
      const c = batchOf(sizes, ['elements', 'elements'], prog, [4, 2]);
      check(one, c, `[${sizes.join(', ')}], 1 thread`);
      check(two, c, `[${sizes.join(', ')}], 2 threads`);
    }
  });

  test('sizes[0] = 1: an input declared [1] with strides [1] is read as the handles say', () => {
    const ops = [load(0), load(1), bin('sub', 0, 1), un('neg', 2)];
    // in element order: the later segments pass their own elements
    const elements = batchOf([1, 5, 0, 9], ['elements', 'single'], ops, [3, 2]);
    check(two, elements, 'read in element order');
    // a single value: every segment passes one element
    const single: BatchCase = { ...elements, reads: ['single', 'single'], data: elements.batch.sizes.map((_, s) => [valuesFor(1, 3 + s), valuesFor(1, 50 + s)]) };
    check(two, single, 'read as a single value');
  });

  test('no segments: no outputs, one kernel execution, no job', () => {
    const c = batchOf([], ['elements'], [load(0), un('abs', 0)], [1]);
    const run = runBatch(one, c);
    assert.deepEqual([run.outs, run.kernels, run.jobs], [[], 1, 0]);
  });

  test('a runner whose module slot was reused still computes its own program', () => {
    const { ops, outputs, reads } = adamProgram();
    const c = batchOf([70000, 7, 2], reads, ops, outputs, 5);
    const segments = uploadSegments(two, c);
    const runner = two.compileFusedBatch(c.batch);
    const want = runAlone(two, c);
    for (let n = 1; n < 140; n++) {
      const chain: FusedOp[] = [load(0)];
      for (let i = 0; i < n; i++) chain.push(un('neg', chain.length - 1), bin('add', chain.length, 0));
      two.compileFusedBatch({ kernel: kernelOver(4, ['elements'], chain, [chain.length - 1]), sizes: [4, 4] });
    }
    const made = runner(segments);
    assertSameBits(made.map((m) => readAll(two, m)), want, c, 'after eviction');
    for (const h of [...made.flat(), ...segments.flat().map((x) => x.handle)]) two.release(h);
  });

  test('malformed batches and calls are refused with a BackendError, leaving no buffer behind', () => {
    const ops = [load(0), load(1), bin('add', 0, 1)];
    const ok = batchOf([4, 6], ['elements', 'single'], ops, [2]);
    const refusedBatches: [string, FusedBatch][] = [
      ['rank 2', { ...ok.batch, kernel: { ...ok.batch.kernel, shape: [2, 2], inputs: [{ shape: [2, 2], strides: [2, 1] }, { shape: [1], strides: [0, 0] }] } }],
      ['a strided input', { ...ok.batch, kernel: { ...ok.batch.kernel, inputs: [{ shape: [8], strides: [2] }, { shape: [1], strides: [0] }] } }],
      ['a broadcast input of several elements', { ...ok.batch, kernel: { ...ok.batch.kernel, inputs: [{ shape: [4], strides: [1] }, { shape: [3], strides: [0] }] } }],
      ['kernel.shape is not [sizes[0]]', { ...ok.batch, sizes: [5, 6] }],
      ['a negative size', { ...ok.batch, sizes: [4, -1] }],
      ['an operand after its instruction', { ...ok.batch, kernel: { ...ok.batch.kernel, ops: [load(0), bin('add', 0, 2)], outputs: [1] } }],
    ];
    for (const [label, batch] of refusedBatches) assert.throws(() => one.compileFusedBatch(batch), BackendError, label);

    const runner = one.compileFusedBatch(ok.batch);
    const memory = one.memory();
    const segments = uploadSegments(one, ok);
    const wrongCount = uploadSegments(one, { ...ok, data: [ok.data[0]!, [valuesFor(5, 1), valuesFor(1, 2)]] });
    const released = uploadSegments(one, ok);
    one.release(released[1]![0]!.handle);
    const refusedCalls: [string, Segment[]][] = [
      ['one segment too few', segments.slice(0, 1)],
      ['an input missing', [segments[0]!, segments[1]!.slice(0, 1)]],
      ['5 elements for a segment of 6', wrongCount],
      ['a released handle', released],
    ];
    const kernels = one.stats().kernels;
    for (const [label, segs] of refusedCalls) assert.throws(() => runner(segs), BackendError, label);
    assert.equal(one.stats().kernels, kernels, 'a refused call runs nothing');
    for (const x of [...segments, ...wrongCount, ...released].flat()) one.release(x.handle);
    assert.deepEqual(one.memory(), memory, 'no output buffer left behind');
  });
});

describe('wasm fused batches: the static split among threads (batchShares)', () => {
  test('every element once, in order, in pieces of one segment; shares balanced within 4 elements; cuts at multiples of 4', () => {
    fc.assert(fc.property(fc.array(arbSize, { minLength: 0, maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (sizes, parts) => {
      const { pieces, shares } = batchShares(sizes, parts);
      const total = sizes.reduce((a, n) => a + n, 0);
      // pieces tile the segments in order
      let s = 0, at = 0;
      for (const p of pieces) {
        while (at === sizes[s]) [s, at] = [s + 1, 0];
        assert.deepEqual([p.segment, p.start], [s, at], 'pieces in segment and element order');
        assert.ok(p.count > 0 && p.start + p.count <= sizes[s]!, 'a piece lies in its segment');
        assert.ok(p.start === 0 || p.start % 4 === 0, `piece start ${p.start} is a multiple of 4`);
        at += p.count;
      }
      assert.equal(pieces.reduce((a, p) => a + p.count, 0), total, 'every element once');
      // shares are consecutive runs of pieces, at most `parts`, each close to total / parts
      assert.ok(shares.length <= parts && (total === 0) === (shares.length === 0));
      shares.forEach(([a, b], t) => {
        assert.ok(b > a && a === (t === 0 ? 0 : shares[t - 1]![1]), 'consecutive non-empty runs');
        const n = pieces.slice(a, b).reduce((x, p) => x + p.count, 0);
        assert.ok(Math.abs(n - total / parts) < 5, `share ${t}: ${n} of ${total} elements for ${parts} threads`);
      });
      if (shares.length > 0) assert.equal(shares[shares.length - 1]![1], pieces.length);
    }), { seed: 42, numRuns: 300 });
  });
});
