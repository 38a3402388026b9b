/**
 * The `wasm` backend's fused elementwise kernels (`compileFused`) against the same primitives run
 * one by one through the backend's own kernels: bit for bit (Uint32 views, NaN payloads
 * included), for random programs over random broadcast patterns and special values, with 1 and 2
 * threads; edge cases (zero-size, rank 0, 16 inputs, duplicated inputs and outputs, an output that
 * is just a load, programs without inputs, cache eviction); `stats()`; and the allocator's
 * regressions (a failed allocation leaves the backend as it was; free blocks coalesce).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import '../backends/register.js';
import { createWasmBackend, type WasmBackend, type WasmHandle } from '../backends/wasm/backend.js';
import { binFloor, binOf, CONTROL_BYTES, Heap, sizeClass, type Block } from '../backends/wasm/heap.js';
import { MEMORY_PAGES } from '../backends/wasm/kernels.js';
import { Wasm } from '../backends/wasm/wasm-api.js';
import { showFused, type FusedKernel, type FusedOp } from '../core/compile/fused.js';
import * as core from '../core/index.js';
import { sizeOf, stridesOf, type Shape } from '../core/shape.js';
import { arbProgram, bin, BINARY, cmp, firstDiff, hexBits, konst, un, valuesFor } from './helpers/fused-programs.js';

// ---------------------------------------------------------------------------------------------
// Programs and their unfused evaluation

/** How a test input is read by the kernel. */
interface InputSpec {
  readonly shape: Shape;
  readonly strides: readonly number[];
  /** Eager: the permutation that turns the input into the output's axes (permuted inputs). */
  readonly perm?: readonly number[];
  /** Eager: broadcast the input to the full shape before use (else binary kernels broadcast). */
  readonly materialize: boolean;
}

interface Case {
  readonly kernel: FusedKernel;
  readonly specs: readonly InputSpec[];
  readonly data: readonly Float32Array[];
}

const arbShape = (maxRank: number, maxExtent: number): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(1) }, { weight: 4, arbitrary: fc.integer({ min: 2, max: maxExtent }) }), { minLength: 0, maxLength: maxRank });

/** Broadcast strides of `shape` (right-aligned) over `out` (0 where it has extent 1 or is absent). */
function broadcastStridesOver(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  return out.map((_, d) => {
    const k = d - (out.length - shape.length);
    return k < 0 || shape[k] === 1 ? 0 : st[k]!;
  });
}

/** An input over `out`: broadcast (axes dropped or set to 1) or a permutation of it. */
const arbInput = (out: Shape): fc.Arbitrary<InputSpec> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ keep: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), drop: fc.integer({ min: 0, max: out.length }), materialize: fc.boolean() }).map(({ keep, drop, materialize }) => {
      const shape = out.map((e, d) => (keep[d] ? e : 1)).slice(drop);
      return { shape, strides: broadcastStridesOver(shape, out), materialize };
    }) },
    { weight: 1, arbitrary: fc.shuffledSubarray(out.map((_, d) => d), { minLength: out.length, maxLength: out.length }).map((perm) => {
      // input axis i holds output axis perm[i]
      const shape = perm.map((d) => out[d]!);
      const st = stridesOf(shape);
      const strides = out.map(() => 0);
      perm.forEach((d, i) => (strides[d] = out[d] === 1 ? 0 : st[i]!));
      const inverse = out.map((_, d) => perm.indexOf(d));
      return { shape, strides, perm: inverse, materialize: false };
    }) },
  );

const arbCase = (o: { maxRank: number; maxExtent: number; maxOps: number; zeroSize?: boolean }): fc.Arbitrary<Case> =>
  fc.record({
    shape: o.zeroSize ? fc.tuple(arbShape(o.maxRank - 1, o.maxExtent), fc.nat(o.maxRank - 1)).map(([s, at]) => [...s.slice(0, at), 0, ...s.slice(at)]) : arbShape(o.maxRank, o.maxExtent),
    nIn: fc.integer({ min: 1, max: 4 }),
    extra: fc.integer({ min: 1, max: o.maxOps }),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  }).chain(({ shape, nIn, extra, seed }) =>
    fc.tuple(fc.array(arbInput(shape), { minLength: nIn, maxLength: nIn }), arbProgram(nIn, extra)).map(([specs, prog]): Case => ({
      kernel: { shape, inputs: specs.map((s) => ({ shape: s.shape, strides: s.strides })), ops: prog.ops, outputs: prog.outputs },
      specs,
      data: specs.map((s, k) => valuesFor(sizeOf(s.shape), seed + k)),
    })),
  );

/** Broadcast shape of several (NumPy rules). */
function broadcastAll(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, d) => Math.max(...shapes.map((s) => s[d - (rank - s.length)] ?? 1)));
}

interface Value {
  readonly handle: WasmHandle;
  readonly shape: Shape;
}

/**
 * Runs a case's program primitive by primitive with the backend's own kernels; returns the
 * outputs (each broadcast to the kernel's shape) as host arrays.
 */
function eager(be: WasmBackend, c: Case): Float32Array[] {
  const k = be.kernels;
  const made: WasmHandle[] = [];
  const keep = (h: WasmHandle, shape: Shape): Value => {
    made.push(h);
    return { handle: h, shape };
  };
  const rank = c.kernel.shape.length;
  const padded = (v: Value): Value => {
    if (v.shape.length === rank) return v;
    const shape = [...new Array<number>(rank - v.shape.length).fill(1), ...v.shape];
    return keep(k.reshape([v], shape, { shape }), shape);
  };
  const full = (v: Value): Value => {
    if (v.shape.length === rank && v.shape.every((e, d) => e === c.kernel.shape[d])) return v;
    const p = padded(v);
    return keep(k.broadcast([p], c.kernel.shape, { shape: c.kernel.shape }), c.kernel.shape);
  };
  try {
    const inputs = c.specs.map((s, i) => keep(be.upload(c.data[i]!, s.shape), s.shape));
    const vals: Value[] = [];
    for (const op of c.kernel.ops) {
      switch (op.kind) {
        case 'load': {
          const s = c.specs[op.input]!;
          let v = inputs[op.input]!;
          if (s.perm) {
            const shape = s.perm.map((d) => v.shape[d]!);
            v = keep(k.permute([v], shape, { perm: s.perm }), shape);
          }
          vals.push(s.materialize ? full(v) : padded(v));
          break;
        }
        case 'const':
          vals.push(keep(be.upload([op.value], []), []));
          break;
        case 'unary': {
          const a = vals[op.a]!;
          vals.push(keep(k[op.op]([a], a.shape, {}), a.shape));
          break;
        }
        case 'binary': {
          const a = vals[op.a]!, b = vals[op.b]!;
          const shape = broadcastAll(a.shape, b.shape);
          vals.push(keep(k[op.op]([a, b], shape, {}), shape));
          break;
        }
        case 'compare': {
          const a = vals[op.a]!, b = vals[op.b]!;
          const shape = broadcastAll(a.shape, b.shape);
          vals.push(keep(k.compare([a, b], shape, { op: op.op }), shape));
          break;
        }
        case 'where': {
          const cc = vals[op.c]!, a = vals[op.a]!, b = vals[op.b]!;
          const shape = broadcastAll(cc.shape, a.shape, b.shape);
          vals.push(keep(k.where([cc, a, b], shape, {}), shape));
          break;
        }
      }
    }
    return c.kernel.outputs.map((o) => be.readSync!(full(vals[o]!).handle) as Float32Array);
  } finally {
    for (const h of made) be.release(h);
  }
}

/** Runs a case's program as one fused kernel. */
function fused(be: WasmBackend, c: Case, inputs = c.specs.map((s, i) => ({ handle: be.upload(c.data[i]!, s.shape), shape: s.shape }))): Float32Array[] {
  const outs = be.compileFused(c.kernel)(inputs);
  try {
    assert.equal(outs.length, c.kernel.outputs.length);
    return outs.map((h) => be.readSync!(h) as Float32Array);
  } finally {
    for (const h of outs) be.release(h);
    for (const x of inputs) be.release(x.handle);
  }
}

function assertSameBits(got: readonly Float32Array[], want: readonly Float32Array[], c: Case, label: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, o) => {
    assert.equal(g.length, sizeOf(c.kernel.shape), `${label}: output ${o} size`);
    const i = firstDiff(g, want[o]!);
    if (i >= 0) {
      assert.fail(`${label}: output ${o} element ${i}: fused ${g[i]} (0x${hexBits(g[i]!)}) ≠ unfused ${want[o]![i]} (0x${hexBits(want[o]![i]!)}) in ${showFused(c.kernel)}`);
    }
  });
}

/** Checks a case on a backend: fused vs unfused, bit for bit. */
function check(be: WasmBackend, c: Case, label: string): Float32Array[] {
  const want = eager(be, c);
  const got = fused(be, c);
  assertSameBits(got, want, c, label);
  return got;
}

/** A case from explicit parts (contiguous inputs unless strides are given). */
function caseOf(shape: Shape, inputs: readonly { shape: Shape; strides?: readonly number[]; perm?: readonly number[] }[], ops: FusedOp[], outputs: number[], seed = 7): Case {
  const specs: InputSpec[] = inputs.map((i) => ({ shape: i.shape, strides: i.strides ?? broadcastStridesOver(i.shape, shape), perm: i.perm, materialize: false }));
  return {
    kernel: { shape, inputs: specs.map((s) => ({ shape: s.shape, strides: s.strides })), ops, outputs },
    specs,
    data: specs.map((s, k) => valuesFor(sizeOf(s.shape), seed + k)),
  };
}

const load = (input: number): FusedOp => ({ kind: 'load', input });

// ---------------------------------------------------------------------------------------------

describe('wasm fused kernels: bit-identical to the primitives one by one', () => {
  let one: WasmBackend;
  let two: WasmBackend;
  before(() => {
    one = createWasmBackend({ threads: 1 });
    two = createWasmBackend({ threads: 2 });
    assert.ok(two.waitForThreads(10_000), 'the worker thread did not start');
  });

  test('random programs over random broadcast patterns and special values (1 and 2 threads)', () => {
    fc.assert(fc.property(arbCase({ maxRank: 6, maxExtent: 5, maxOps: 14 }), (c) => {
      const a = check(one, c, '1 thread');
      const b = check(two, c, '2 threads');
      assertSameBits(b, a, c, '2 threads vs 1');
    }), { seed: 42, numRuns: 250 });
  });

  test('random programs with zero-size shapes', () => {
    fc.assert(fc.property(arbCase({ maxRank: 4, maxExtent: 4, maxOps: 6, zeroSize: true }), (c) => {
      check(one, c, 'zero-size');
    }), { seed: 42, numRuns: 30 });
  });

  test('random programs large enough to be split among the threads (rows or columns)', () => {
    const shapes: Shape[] = [[3, 40000], [1, 90001], [250, 6, 37], [2, 3, 4, 5, 6, 200]];
    const arbLarge = fc.record({ shape: fc.constantFrom(...shapes), nIn: fc.integer({ min: 1, max: 4 }), extra: fc.integer({ min: 1, max: 10 }), seed: fc.integer({ min: 1, max: 1000 }) })
      .chain(({ shape, nIn, extra, seed }) => fc.tuple(fc.array(arbInput(shape), { minLength: nIn, maxLength: nIn }), arbProgram(nIn, extra)).map(([specs, prog]): Case => ({
        kernel: { shape, inputs: specs.map((s) => ({ shape: s.shape, strides: s.strides })), ops: prog.ops, outputs: prog.outputs },
        specs,
        data: specs.map((s, k) => valuesFor(sizeOf(s.shape), seed + k)),
      })));
    const parallel = two.runtime.pool.counts.parallel;
    fc.assert(fc.property(arbLarge, (c) => {
      const b = check(two, c, '2 threads');
      assertSameBits(fused(one, c), b, c, '1 thread vs 2');
    }), { seed: 42, numRuns: 12 });
    assert.ok(two.runtime.pool.counts.parallel > parallel, 'nothing ran on both threads');
  });

  test('programs calling JS functions run on every thread where they are Math builtins (exp, log, pow), else on one', () => {
    const shape = [4, 30000];
    for (const op of ['exp', 'log', 'sign'] as const) {
      const c = caseOf(shape, [{ shape }, { shape: [1, 30000] }], [load(0), load(1), bin('mul', 0, 1), un(op, 2), bin('pow', 3, 0), bin('add', 4, 1)], [5, 3]);
      const want = eager(two, c);
      const before = two.runtime.pool.counts.parallel;
      const b = fused(two, c);
      assert.equal(two.runtime.pool.counts.parallel > before, op !== 'sign', `${op}: ran on ${op === 'sign' ? 'the workers' : 'one thread'}`);
      assertSameBits(b, want, c, `${op}, 2 threads`);
      assertSameBits(fused(one, c), b, c, `${op}: 1 thread vs 2`);
    }
  });

  test('every strided read: transposed, broadcast and contiguous inputs in one kernel, inner axis of 1 to 9', () => {
    for (let w = 1; w <= 9; w++) {
      const shape = [3, 5, w];
      const c = caseOf(shape, [
        // read transposed: output (i0, i1, i2) is input [i2, i1, i0] (input strides [15, 3, 1])
        { shape: [w, 5, 3], strides: [1, 3, w === 1 ? 0 : 15], perm: [2, 1, 0] },
        { shape: [5, 1] },
        { shape },
      ], [load(0), load(1), load(2), bin('sub', 0, 1), bin('div', 3, 2), { kind: 'where', c: 2, a: 4, b: 0 }], [5, 3]);
      check(one, c, `inner ${w}`);
      check(two, c, `inner ${w}`);
    }
  });

  test('rank 0, an output that is just a load, duplicated inputs and outputs, unused inputs, no inputs', () => {
    const scalar = caseOf([], [{ shape: [] }], [load(0), un('exp', 0), un('neg', 1)], [2, 0]);
    check(one, scalar, 'rank 0');
    const justLoad = caseOf([2, 3], [{ shape: [3] }], [load(0)], [0, 0]);
    check(two, justLoad, 'just a load');
    const unused = caseOf([6], [{ shape: [6] }, { shape: [6] }], [load(1), un('abs', 0)], [1, 1, 0]);
    check(one, unused, 'unused input');
    const noInputs = caseOf([3, 4], [], [konst(2), konst(-0), bin('div', 0, 1), un('neg', 2), konst(NaN), bin('add', 3, 4)], [2, 3, 5]);
    check(two, noInputs, 'no inputs');
    // the same handle passed as two inputs (read differently)
    const twice = caseOf([4, 4], [{ shape: [4, 4] }, { shape: [4, 4], strides: [1, 4], perm: [1, 0] }], [load(0), load(1), bin('mul', 0, 1), load(0), bin('sub', 2, 3)], [4]);
    const data = twice.data[0]!;
    const same: Case = { ...twice, data: [data, data] };
    const want = eager(two, same);
    const h = two.upload(data, [4, 4]);
    const h2 = two.kernels.reshape([{ handle: h, shape: [4, 4] }], [4, 4], { shape: [4, 4] });
    assertSameBits(fused(two, same, [{ handle: h, shape: [4, 4] }, { handle: h2, shape: [4, 4] }]), want, same, 'one buffer twice');
  });

  test('16 inputs, and a long chain (96 instructions)', () => {
    const shape = [7, 11];
    const inputs = Array.from({ length: 16 }, (_, k) => ({ shape: k % 3 === 0 ? [7, 1] : k % 3 === 1 ? [11] : shape }));
    const ops: FusedOp[] = inputs.map((_, k) => load(k));
    for (let k = 1; k < 16; k++) ops.push(bin(BINARY[k % 4]!, ops.length - 1, k));
    check(two, caseOf(shape, inputs, ops, [ops.length - 1, 3]), '16 inputs');
    const chain: FusedOp[] = [load(0), load(1)];
    while (chain.length < 96) chain.push(chain.length % 7 === 0 ? un('sqrt', chain.length - 1) : bin(BINARY[chain.length % 4]!, chain.length - 1, chain.length % 2));
    check(two, caseOf([5, 9], [{ shape: [5, 9] }, { shape: [9] }], chain, [95, 50]), 'long chain');
  });

  test('where: NaN conditions select a, -0 selects b; compare gives 1 and +0', () => {
    const c = caseOf([8], [{ shape: [8] }, { shape: [8] }, { shape: [8] }], [load(0), load(1), load(2), { kind: 'where', c: 0, a: 1, b: 2 }, cmp('ne', 0, 0), cmp('eq', 1, 1)], [3, 4, 5]);
    const cond = Float32Array.of(NaN, -0, 0, 1, -1, Infinity, 1e-45, -NaN);
    const got = check(one, { ...c, data: [cond, c.data[1]!, c.data[2]!] }, 'where');
    [0, 3, 4, 5, 6, 7].forEach((i) => assert.ok(Object.is(got[0]![i], c.data[1]![i]), `cond ${cond[i]} selects a`));
    [1, 2].forEach((i) => assert.ok(Object.is(got[0]![i], c.data[2]![i]), `cond ${cond[i]} selects b`));
  });

  test('compiled modules are cached and evicted: a runner whose slot was reused still computes its own program', () => {
    const shape = [9];
    const chain = (n: number): Case => {
      const ops: FusedOp[] = [load(0)];
      for (let i = 0; i < n; i++) ops.push(un('neg', ops.length - 1), bin('add', ops.length, 0));
      return caseOf(shape, [{ shape }], ops, [ops.length - 1]);
    };
    const first = chain(1);
    const runner = two.compileFused(first.kernel);
    const want = eager(two, first);
    for (let n = 2; n < 140; n++) two.compileFused(chain(n).kernel);
    const x = two.upload(first.data[0]!, shape);
    const [y] = runner([{ handle: x, shape }]);
    assertSameBits([two.readSync!(y!) as Float32Array], want, first, 'after eviction');
    two.release(x);
    two.release(y!);
  });

  test('malformed kernels are refused with a BackendError', () => {
    const bad: FusedKernel = { shape: [2], inputs: [{ shape: [2], strides: [1] }], ops: [load(0), bin('add', 0, 1)], outputs: [1] };
    assert.throws(() => one.compileFused(bad), core.BackendError);
    assert.throws(() => one.compileFused({ ...bad, ops: [load(1)], outputs: [0] }), core.BackendError);
  });
});

describe('wasm stats()', () => {
  test('kernels: one per primitive kernel or fused call (not reshape); allocations: fresh buffers only', () => {
    const be = createWasmBackend({ threads: 1 });
    const s0 = be.stats();
    assert.deepEqual(s0, { kernels: 0, allocations: 0 });
    const shape = [1000];
    const x = be.upload(valuesFor(1000, 3), shape);
    assert.deepEqual(be.stats(), { kernels: 0, allocations: 1 }, 'an upload allocates, runs no kernel');
    const r = be.kernels.reshape([{ handle: x, shape }], [10, 100], { shape: [10, 100] });
    assert.deepEqual(be.stats(), { kernels: 0, allocations: 1 }, 'reshape relabels');
    const y = be.kernels.exp([{ handle: x, shape }], shape, {});
    const z = be.kernels.add([{ handle: x, shape }, { handle: y, shape }], shape, {});
    assert.deepEqual(be.stats(), { kernels: 2, allocations: 3 });
    be.release(z);
    be.release(y);
    const k: FusedKernel = { shape, inputs: [{ shape, strides: [1] }], ops: [load(0), un('exp', 0), bin('add', 0, 1)], outputs: [2, 1] };
    const outs = be.compileFused(k)([{ handle: x, shape }]);
    assert.deepEqual(be.stats(), { kernels: 3, allocations: 3 }, 'one fused call; its two outputs reuse the two released blocks');
    for (const h of outs) be.release(h);
    const big = be.kernels.neg([{ handle: r, shape: [10, 100] }], [10, 100], {});
    assert.deepEqual(be.stats(), { kernels: 4, allocations: 3 });
    const bigger = be.upload(new Float32Array(5000), [5000]);
    assert.deepEqual(be.stats(), { kernels: 4, allocations: 4 }, 'a new size class is carved fresh');
    for (const h of [x, r, big, bigger]) be.release(h);
  });
});

describe('wasm allocator', () => {
  const heapOf = () => new Heap(new Wasm.Memory({ initial: 1, maximum: 256, shared: true }), 256);

  test('size classes are the floors of their bins (every block of that bin or above fits)', () => {
    for (let n = 1; n < 2 ** 31; n = Math.ceil(n * 1.003) + 1) {
      const c = sizeClass(n);
      assert.equal(binFloor(binOf(c)), c, `class ${c}`);
    }
    for (let s = 64; s < 1 << 20; s += 64) assert.ok(binFloor(binOf(s)) <= s && s < binFloor(binOf(s) + 1), `size ${s}`);
  });

  test('a failed allocation throws a BackendError naming the bytes and the limit, and changes nothing', () => {
    const heap = heapOf();
    const a = heap.alloc(1000);
    const before = heap.stats();
    assert.throws(() => heap.alloc(20 * 2 ** 20), (e: Error) => e instanceof core.BackendError && /20971520 bytes/.test(e.message) && /limit is 16777216 bytes/.test(e.message));
    assert.deepEqual(heap.stats(), before);
    const b = heap.alloc(1000);
    assert.equal(b.ptr, a.ptr + a.size, 'the next block follows the last one');
  });

  test('after zeros([1e5, 1e5]) fails, the backend works exactly as before', async () => {
    await core.setBackend('wasm', { threads: 1, tag: 'wasm-fused-allocator' });
    const be = core.getBackend() as WasmBackend;
    const heap = () => be.runtime.heap.stats();
    const inUse = heap().inUse;
    const memBefore = core.memory();
    const refused = (e: Error) => e instanceof core.BackendError && /40000000000 bytes/.test(e.message) && /limit is 4294967296 bytes/.test(e.message);
    assert.throws(() => core.zeros([1e5, 1e5]), refused);
    assert.equal(heap().inUse, inUse, 'blocks leaked');
    assert.deepEqual(core.memory(), memBefore);
    // the first failure leaves the scalar that zeros broadcasts in the free space; a second changes nothing
    const after = heap();
    assert.throws(() => core.zeros([1e5, 1e5]), refused);
    assert.deepEqual(heap(), after);
    const a = core.tensor(Float32Array.from({ length: 48 }, (_, i) => i), [1, 3, 4, 4]);
    const b = core.add(a, 1);
    assert.deepEqual([...(await b.data())], Array.from({ length: 48 }, (_, i) => i + 1));
    core.dispose([a, b]);
    assert.deepEqual(core.memory(), memBefore);
  });

  test('free blocks coalesce: growing sizes reuse the space, mixed sizes keep the top near the peak in use', () => {
    const heap = new Heap(new Wasm.Memory({ initial: 1, maximum: MEMORY_PAGES.max, shared: true }), MEMORY_PAGES.max);
    // one block growing by 64 bytes at a time, the previous freed after: without merging, the top
    // is the sum of the size classes met (≈ 5 times the largest); merged, under 3 times
    let prev: Block | undefined;
    for (let k = 1; k <= 2000; k++) {
      const b = heap.alloc(64 * k);
      if (prev) heap.free(prev);
      prev = b;
    }
    assert.ok(heap.stats().top <= CONTROL_BYTES + 3 * sizeClass(64 * 2000), `top ${heap.stats().top}`);
    heap.free(prev!);
    // random lifetimes of sizes from 64 B to 1 MiB
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const live: Block[] = [];
    for (let i = 0; i < 20000; i++) {
      if (live.length > 60 || (live.length > 0 && rnd() < 0.45)) heap.free(live.splice(Math.floor(rnd() * live.length), 1)[0]!);
      else live.push(heap.alloc(Math.floor(64 * 2 ** (rnd() * 14))));
    }
    const st = heap.stats();
    assert.ok(st.top - CONTROL_BYTES <= 1.5 * st.peakInUse, `top ${st.top} vs peak in use ${st.peakInUse}`);
    for (const b of live) heap.free(b);
    assert.deepEqual([heap.stats().freeBlocks, heap.stats().freeBytes, heap.stats().inUse], [1, heap.stats().top - CONTROL_BYTES, 0], 'everything merged into one free block');
  });

  test('repeating the same allocations reuses the same blocks', () => {
    const heap = heapOf();
    const sizes = [100, 5000, 64, 70000, 333, 12, 4096, 4097];
    const round = () => {
      const bs = sizes.map((n) => heap.alloc(n));
      bs.filter((_, i) => i % 2 === 0).forEach((b) => heap.free(b));
      const more = sizes.map((n) => heap.alloc(n * 2));
      for (const b of [...bs.filter((_, i) => i % 2 === 1), ...more]) heap.free(b);
      return bs.map((b) => b.ptr);
    };
    const first = round();
    const top = heap.stats().top;
    for (let i = 0; i < 5; i++) assert.deepEqual(round(), first);
    assert.equal(heap.stats().top, top);
  });
});
