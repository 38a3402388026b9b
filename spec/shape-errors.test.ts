/**
 * Bad inputs get clear errors: every primitive's shape rule and every public op's checks throw a
 * `ShapeError` (or `InputError` for bad values) whose `.op` and `.argument` are set and whose
 * message names the op and the shapes involved; `decodeTensor` returns readable `Left`s; disposed
 * tensors throw `InputError`; tensors of two backends do not mix (`BackendError`).
 *
 * `.op` is the public op the caller used, or for a public op that wraps exactly one primitive under
 * another name (transpose → permute, less → compare(lt)), that primitive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as E from 'fp-ts/lib/Either.js';
import '../backends/register.js';
import * as T from '../core/index.js';
import { BackendError, InputError, PRIM_NAMES, ShapeError, rules, setBackend, type PrimName, type PrimParams, type Shape, type Tensor } from '../core/index.js';

type ErrorClass = typeof ShapeError | typeof InputError | typeof BackendError;

/** Asserts that `run` throws `type` with `.op` among `ops`, `.argument` set, and a message naming each of `mentions`. */
function assertError(run: () => unknown, type: ErrorClass, ops: string | readonly string[], mentions: readonly string[] = [], argument?: string): void {
  const accepted = typeof ops === 'string' ? [ops] : ops;
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.name, type.name);
    assert.ok(accepted.includes(e.op), `.op is '${e.op}', expected ${accepted.map((o) => `'${o}'`).join(' or ')} (message: ${e.message})`);
    assert.ok(typeof e.argument === 'string' && e.argument.length > 0, `.argument is set (message: ${e.message})`);
    if (argument !== undefined) assert.equal(e.argument, argument, `.argument (message: ${e.message})`);
    assert.ok(e.message.startsWith(`${e.op}: ${e.argument}: `), `the message starts with the op and the argument: ${e.message}`);
    for (const m of mentions) assert.ok(e.message.includes(m), `the message names ${m}: ${e.message}`);
    return true;
  });
}

const z = (...shape: number[]): Tensor => T.zeros(shape);
const show = (s: Shape): string => `[${s.join(', ')}]`;

before(async () => {
  await setBackend('cpu64');
});

// ---------------------------------------------------------------------------------------------

const conv: T.ConvParams = { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 };

/** One bad call of each primitive's shape rule (an exhaustive table: a new primitive needs a case). */
const primitiveCases: { readonly [P in PrimName]: { readonly shapes: Shape[]; readonly params: PrimParams[P]; readonly op?: string; readonly mentions?: readonly string[] } } = {
  neg: { shapes: [[2], [3]], params: {}, mentions: ['expected 1 inputs, got 2'] },
  exp: { shapes: [[2], [3]], params: {}, mentions: ['expected 1 inputs, got 2'] },
  log: { shapes: [[2], [3]], params: {}, mentions: ['expected 1 inputs, got 2'] },
  sqrt: { shapes: [[2], [3]], params: {}, mentions: ['expected 1 inputs, got 2'] },
  abs: { shapes: [], params: {}, mentions: ['expected 1 inputs, got 0'] },
  sign: { shapes: [], params: {}, mentions: ['expected 1 inputs, got 0'] },
  add: { shapes: [[2, 3], [4]], params: {} },
  sub: { shapes: [[2, 3, 4], [3, 5]], params: {} },
  mul: { shapes: [[2], [3]], params: {} },
  div: { shapes: [[4, 1], [2, 3]], params: {} },
  pow: { shapes: [[3], [2, 2]], params: {} },
  compare: { shapes: [[2], [3]], params: { op: 'lt' }, op: 'compare(lt)' },
  where: { shapes: [[2], [3], [3]], params: {} },
  sum: { shapes: [[2, 3]], params: { axes: [2] } },
  max: { shapes: [[2, 3]], params: { axes: [-1] } },
  argmax: { shapes: [[0, 2]], params: { axis: 0 } },
  reshape: { shapes: [[2, 3]], params: { shape: [4] }, mentions: ['[4]'] },
  broadcast: { shapes: [[2, 3]], params: { shape: [3, 3] }, mentions: ['[3, 3]'] },
  permute: { shapes: [[2, 3]], params: { perm: [0, 0] } },
  pad: { shapes: [[2, 3]], params: { widths: [[1, 1]], value: 0 } },
  slice: { shapes: [[3, 4]], params: { begin: [2, 0], size: [2, 4] } },
  concat: { shapes: [[2, 3], [2, 4]], params: { axis: 0 } },
  matmul: { shapes: [[1, 2, 3], [1, 4, 5]], params: { transA: false, transB: false } },
  conv2d: { shapes: [[1, 3, 5, 5], [2, 2, 3, 3]], params: conv },
  conv2dBackpropInput: { shapes: [[1, 2, 3, 3], [2, 3, 3, 3]], params: { ...conv, inputShape: [1, 3, 6, 6] }, mentions: ['[1, 3, 6, 6]', '[1, 2, 4, 4]'] },
  conv2dBackpropFilter: { shapes: [[1, 3, 6, 6], [1, 2, 3, 3]], params: { ...conv, filterShape: [2, 3, 3, 3] }, mentions: ['[2, 3, 3, 3]', '[1, 2, 4, 4]'] },
};

describe("every primitive's shape rule throws a ShapeError naming the primitive and the shapes", () => {
  for (const name of PRIM_NAMES) {
    test(name, () => {
      const c = primitiveCases[name];
      const rule = rules[name] as T.Rule<PrimName>;
      const arityCase = c.shapes.length === 0 || (c.mentions ?? []).some((m) => m.startsWith('expected 1 inputs'));
      assertError(() => rule.shape(c.shapes, c.params as never), ShapeError, c.op ?? name, [...(arityCase ? [] : c.shapes.map(show)), ...(c.mentions ?? [])]);
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('public ops: ShapeError naming the op and the shapes', () => {
  for (const [name, op] of [['add', T.add], ['sub', T.sub], ['mul', T.mul], ['div', T.div], ['pow', T.pow]] as const) {
    test(`${name} with non-broadcastable shapes`, () => {
      assertError(() => op(z(2, 3), z(4)), ShapeError, name, ['[2, 3]', '[4]'], 'a, b');
      assertError(() => op(z(2, 3, 4), z(3, 5)), ShapeError, name, ['[2, 3, 4]', '[3, 5]']);
    });
  }
  for (const [name, prim, op] of [
    ['less', 'lt', T.less], ['lessEqual', 'le', T.lessEqual], ['greater', 'gt', T.greater],
    ['greaterEqual', 'ge', T.greaterEqual], ['equal', 'eq', T.equal], ['notEqual', 'ne', T.notEqual],
  ] as const) {
    test(`${name} with non-broadcastable shapes`, () => assertError(() => op(z(2), z(3)), ShapeError, [name, `compare(${prim})`], ['[2]', '[3]']));
  }
  test('where with non-broadcastable shapes (cond/a and a/b)', () => {
    assertError(() => T.where(z(2), z(3), z(3)), ShapeError, 'where', ['[2]', '[3]']);
    assertError(() => T.where(z(3), z(3), z(2)), ShapeError, 'where', ['[3]', '[2]']);
  });
  test('maximum and minimum with non-broadcastable shapes name themselves', () => {
    assertError(() => T.maximum(z(2, 3), z(4)), ShapeError, 'maximum', ['[2, 3]', '[4]']);
    assertError(() => T.minimum(z(2, 3), z(4)), ShapeError, 'minimum', ['[2, 3]', '[4]']);
  });
  test('matmul: inner extents differ (with and without transposes), rank < 2', () => {
    assertError(() => T.matmul(z(2, 3), z(4, 5)), ShapeError, 'matmul', ['[2, 3]', '[4, 5]']);
    assertError(() => T.matmul(z(3, 2), z(4, 5), { transA: true }), ShapeError, 'matmul', ['[3, 2]', '[4, 5]']);
    assertError(() => T.matmul(z(2, 3), z(5, 4), { transB: true }), ShapeError, 'matmul', ['[2, 3]', '[5, 4]']);
    assertError(() => T.matmul(z(3), z(3, 2)), ShapeError, 'matmul', ['[3]', '[3, 2]']);
  });
  test('matmul: batch axes that do not broadcast name both operand shapes', () => {
    assertError(() => T.matmul(z(2, 2, 3), z(3, 3, 4)), ShapeError, 'matmul', ['[2, 2, 3]', '[3, 3, 4]']);
  });
  test('conv2d: channel and groups mismatches, kernel larger than the padded input, rank', () => {
    assertError(() => T.conv2d(z(1, 3, 5, 5), z(2, 2, 3, 3)), ShapeError, 'conv2d', ['[1, 3, 5, 5]', '[2, 2, 3, 3]']);
    assertError(() => T.conv2d(z(1, 4, 5, 5), z(2, 4, 3, 3), { groups: 2 }), ShapeError, 'conv2d', ['[1, 4, 5, 5]', '[2, 4, 3, 3]', 'groups 2']);
    assertError(() => T.conv2d(z(1, 4, 5, 5), z(3, 2, 3, 3), { groups: 2 }), ShapeError, 'conv2d', ['[3, 2, 3, 3]', 'groups 2'], 'w');
    assertError(() => T.conv2d(z(1, 1, 2, 2), z(1, 1, 3, 3)), ShapeError, 'conv2d', ['[1, 1, 2, 2]', '[1, 1, 3, 3]']);
    assertError(() => T.conv2d(z(1, 1, 3, 3), z(1, 1, 2, 2), { dilation: 3 }), ShapeError, 'conv2d', ['[1, 1, 3, 3]', '[1, 1, 2, 2]']);
    assertError(() => T.conv2d(z(1, 3, 5), z(2, 3, 3, 3)), ShapeError, 'conv2d', ['[1, 3, 5]'], 'x');
    assertError(() => T.conv2d(z(1, 3, 5, 5), z(2, 3, 3)), ShapeError, 'conv2d', ['[2, 3, 3]'], 'w');
  });
  test('conv2dBackpropInput / conv2dBackpropFilter with a wrong inputShape / filterShape', () => {
    assertError(() => T.conv2dBackpropInput(z(1, 2, 3, 3), z(2, 3, 3, 3), { inputShape: [1, 3, 6, 6] }), ShapeError, 'conv2dBackpropInput',
      ['[1, 2, 3, 3]', '[2, 3, 3, 3]', '[1, 3, 6, 6]'], 'dy');
    assertError(() => T.conv2dBackpropInput(z(1, 2, 3, 3), z(2, 3, 3, 3), { inputShape: [1, 4, 5, 5] }), ShapeError, 'conv2dBackpropInput', ['[1, 4, 5, 5]', '[2, 3, 3, 3]']);
    assertError(() => T.conv2dBackpropInput(z(1, 2, 3, 3), z(2, 3, 3, 3), { inputShape: [1, 3, 5] }), ShapeError, 'conv2dBackpropInput', ['[1,3,5]'], 'options.inputShape');
    assertError(() => T.conv2dBackpropFilter(z(1, 3, 6, 6), z(1, 2, 3, 3), { filterShape: [2, 3, 3, 3] }), ShapeError, 'conv2dBackpropFilter',
      ['[1, 3, 6, 6]', '[1, 2, 3, 3]', '[2, 3, 3, 3]'], 'dy');
    assertError(() => T.conv2dBackpropFilter(z(1, 3, 5, 5), z(1, 2, 3, 3), { filterShape: [2, 2, 3, 3] }), ShapeError, 'conv2dBackpropFilter', ['[1, 3, 5, 5]', '[2, 2, 3, 3]']);
    assertError(() => T.conv2dBackpropFilter(z(1, 3, 5, 5), z(1, 2, 3, 3), { filterShape: [2, 3, 3] }), ShapeError, 'conv2dBackpropFilter', ['[2,3,3]'], 'options.filterShape');
  });
  test('conv2dTranspose: outputPadding ≥ stride is an InputError', () => {
    assertError(() => T.conv2dTranspose(z(1, 2, 4, 4), z(2, 1, 3, 3), { stride: 2, outputPadding: 2 }), InputError, 'conv2dTranspose', ['stride 2'], 'options.outputPadding');
    assertError(() => T.conv2dTranspose(z(1, 2, 4, 4), z(2, 1, 3, 3), { outputPadding: [0, 1] }), InputError, 'conv2dTranspose', [], 'options.outputPadding');
    assertError(() => T.conv2dTranspose(z(1, 1, 1, 1), z(1, 1, 1, 1), { padding: 1 }), ShapeError, 'conv2dTranspose', ['[1, 1, 1, 1]']);
  });
  test('conv2dTranspose: channel and groups mismatches name conv2dTranspose and both shapes', () => {
    assertError(() => T.conv2dTranspose(z(1, 3, 4, 4), z(2, 1, 3, 3)), ShapeError, 'conv2dTranspose', ['[1, 3, 4, 4]', '[2, 1, 3, 3]']);
    assertError(() => T.conv2dTranspose(z(1, 3, 4, 4), z(3, 1, 3, 3), { groups: 2 }), ShapeError, 'conv2dTranspose', ['[1, 3, 4, 4]', '[3, 1, 3, 3]', 'groups 2']);
  });
  test('reshape: size mismatch, two −1s', () => {
    assertError(() => T.reshape(z(2, 3), [4]), ShapeError, 'reshape', ['[2, 3]', '[4]']);
    assertError(() => T.reshape(z(2, 3), [-1, -1]), ShapeError, 'reshape', ['[-1, -1]']);
    assertError(() => T.reshape(z(2, 3), [4, -1]), ShapeError, 'reshape', ['[2, 3]', '[4, -1]']);
  });
  test('slice: block out of bounds, wrong number of entries', () => {
    assertError(() => T.slice(z(3, 4), [2, 0], [2, 4]), ShapeError, 'slice', ['[3, 4]']);
    assertError(() => T.slice(z(3, 4), [-1, 0], [1, 1]), ShapeError, 'slice', ['[3, 4]']);
    assertError(() => T.slice(z(3, 4), [0], [1]), ShapeError, 'slice', ['[3, 4]'], 'begin');
  });
  test('concat: mismatched shapes', () => {
    assertError(() => T.concat([z(2, 3), z(2, 4)], 0), ShapeError, 'concat', ['[2, 3]', '[2, 4]'], 'xs[1]');
    assertError(() => T.concat([z(2, 3), z(2)], 1), ShapeError, 'concat', ['[2, 3]', '[2]']);
    assertError(() => T.concat([], 0), ShapeError, 'concat', [], 'xs');
  });
  test('stack: mismatched shapes name stack and the shapes as given', () => {
    assertError(() => T.stack([z(2, 3), z(2, 4)]), ShapeError, 'stack', ['[2, 3]', '[2, 4]']);
  });
  test('transpose: not a permutation', () => {
    assertError(() => T.transpose(z(2, 3), [0, 0]), ShapeError, ['transpose', 'permute'], ['[2, 3]', '[0,0]']);
    assertError(() => T.transpose(z(2, 3), [0]), ShapeError, ['transpose', 'permute'], ['[2, 3]']);
    assertError(() => T.transpose(z(2, 3), [0, 2]), ShapeError, ['transpose', 'permute'], ['[2, 3]']);
  });
  test('pad: widths that do not match the rank', () => {
    assertError(() => T.pad(z(2, 3), [[1, 1]]), ShapeError, 'pad', ['[2, 3]'], 'widths');
    assertError(() => T.pad(z(2, 3), [[1, 1], [0, -1]]), ShapeError, 'pad', ['[2, 3]'], 'widths');
  });
  test('broadcastTo, sumToShape, squeeze', () => {
    assertError(() => T.broadcastTo(z(2, 3), [3, 3]), ShapeError, 'broadcastTo', ['[2, 3]', '[3, 3]']);
    assertError(() => T.broadcastTo(z(3), [3, 1]), ShapeError, 'broadcastTo', ['[3]', '[3, 1]']);
    assertError(() => T.sumToShape(z(2, 3), [4, 2, 3, 1]), ShapeError, 'sumToShape', ['[2, 3]', '[4, 2, 3, 1]']);
    assertError(() => T.sumToShape(z(2, 3), [2]), ShapeError, 'sumToShape', ['[2, 3]', '[2]']);
    assertError(() => T.squeeze(z(2, 3), 0), ShapeError, 'squeeze', ['[2, 3]']);
  });
  test('max/min/argmax over an empty axis', () => {
    assertError(() => T.max(z(0, 2), 0), ShapeError, 'max', ['[0, 2]']);
    assertError(() => T.min(z(2, 0), 1), ShapeError, 'min', ['[2, 0]']);
    assertError(() => T.argmax(z(0, 2), 0), ShapeError, 'argmax', ['[0, 2]']);
  });
});

describe('axes out of range', () => {
  const x = () => z(2, 3);
  const cases: [string, string, () => unknown][] = [
    ['sum', 'sum(x, 2)', () => T.sum(x(), 2)],
    ['sum', 'sum(x, [0, 0])', () => T.sum(x(), [0, 0])],
    ['mean', 'mean(x, -3)', () => T.mean(x(), -3)],
    ['max', 'max(x, [1, 5])', () => T.max(x(), [1, 5])],
    ['min', 'min(x, 2)', () => T.min(x(), 2)],
    ['logSumExp', 'logSumExp(x, 2)', () => T.logSumExp(x(), 2)],
    ['argmax', 'argmax(x, 2)', () => T.argmax(x(), 2)],
    ['softmax', 'softmax(x, 2)', () => T.softmax(x(), 2)],
    ['logSoftmax', 'logSoftmax(x, -3)', () => T.logSoftmax(x(), -3)],
    ['concat', 'concat([x, x], 2)', () => T.concat([x(), x()], 2)],
    ['expandDims', 'expandDims(x, 4)', () => T.expandDims(x(), 4)],
    ['squeeze', 'squeeze(x, 3)', () => T.squeeze(x(), 3)],
  ];
  test('are ShapeErrors naming the op and the axes', () => {
    for (const [op, , run] of cases) assertError(run, ShapeError, op, [], /expandDims|concat|argmax|softmax|logSoftmax/.test(op) ? 'axis' : 'axes');
    assertError(() => T.sum(x(), 2), ShapeError, 'sum', ['axis 2']);
    assertError(() => T.sum(x(), [0, 0]), ShapeError, 'sum', ['twice']);
  });
  test("name the tensor's shape too", () => {
    // One check per op; all failures are reported together (one root cause: normalizeAxes knows only the rank).
    const missing: string[] = [];
    for (const [op, call, run] of cases) {
      try {
        assertError(run, ShapeError, op, ['[2, 3]']);
      } catch (e) {
        missing.push(`${call} with x of shape [2, 3]: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    assert.deepEqual(missing, [], `axis errors that do not name the shape:\n${missing.join('\n')}`);
  });
});

describe('bad values: InputError', () => {
  test('oneHot with a non-integer or non-positive number of classes', () => {
    assertError(() => T.oneHot(z(2, 3), 2.5), InputError, 'oneHot', ['2.5'], 'classes');
    assertError(() => T.oneHot(z(2, 3), 0), InputError, 'oneHot', [], 'classes');
    assertError(() => T.oneHot(T.scalar(1), 3), ShapeError, 'oneHot', ['[]'], 'labels');
  });
  test('clamp with lo > hi, pooling and upsampling options', () => {
    assertError(() => T.clamp(z(2), 1, 0), InputError, 'clamp', ['1', '0']);
    assertError(() => T.maxPool2d(z(1, 1, 4, 4), { size: 2, padding: 2 }), InputError, 'maxPool2d', [], 'options.padding');
    assertError(() => T.avgPool2d(z(1, 1, 4, 4), { size: 0 }), InputError, 'avgPool2d', [], 'options');
    assertError(() => T.maxPool2d(z(1, 1, 2, 2), { size: 3 }), ShapeError, 'maxPool2d', ['[1, 1, 2, 2]'], 'x');
    assertError(() => T.upsampleNearest(z(1, 1, 2, 2), 1.5), InputError, 'upsampleNearest', [], 'factor');
  });
});

// ---------------------------------------------------------------------------------------------

describe('tensor() and decodeTensor', () => {
  test('tensor() with ragged nesting is a ShapeError naming the path', () => {
    assertError(() => T.tensor([[1, 2], [3]]), ShapeError, 'tensor', ['ragged', 'length 2', 'length 1'], 'data[1]');
    assertError(() => T.tensor([1, [2]] as never), ShapeError, 'tensor', ['ragged'], 'data[1]');
    assertError(() => T.tensor([[1], 2] as never), ShapeError, 'tensor', ['ragged'], 'data[1]');
    assertError(() => T.tensor([[[1, 2]], [[3, 4], [5, 6]]]), ShapeError, 'tensor', ['ragged'], 'data[1]');
  });
  test('tensor() with a data length that does not fill the shape is a ShapeError', () => {
    assertError(() => T.tensor([1, 2, 3], [2, 2]), ShapeError, 'tensor', ['3 values', '[2, 2]'], 'shape');
    assertError(() => T.tensor(new Float32Array(5), [2, 3]), ShapeError, 'tensor', ['5 values', '[2, 3]'], 'shape');
    assertError(() => T.tensor([1], [-1]), ShapeError, 'tensor', ['[-1]'], 'shape');
  });

  const left = (u: unknown): string[] => {
    const r = T.decodeTensor(u);
    assert.ok(E.isLeft(r), `decodeTensor(${JSON.stringify(u)}) is a Left`);
    const lines = T.formatErrors(r.left);
    assert.ok(lines.length > 0 && lines.every((l) => typeof l === 'string' && l.length > 0 && !l.includes('\n')), 'one readable line per error');
    return lines;
  };
  test('decodeTensor: Right for nested arrays and { data, shape }', async () => {
    const a = T.decodeTensor([[1, 2], [3, 4]]);
    assert.ok(E.isRight(a));
    assert.deepEqual(a.right.shape, [2, 2]);
    assert.deepEqual(await a.right.toArray(), [[1, 2], [3, 4]]);
    const b = T.decodeTensor({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] });
    assert.ok(E.isRight(b));
    assert.deepEqual(await b.right.toArray(), [[1, 2], [3, 4], [5, 6]]);
    const c = T.decodeTensor(2.5);
    assert.ok(E.isRight(c));
    assert.deepEqual(c.right.shape, []);
  });
  test('decodeTensor: Left with readable messages for ragged nesting', () => {
    const lines = left([[1, 2], [3]]);
    assert.match(lines.join('\n'), /ragged nesting at data\[1\]: expected an array of length 2, got an array of length 1/);
    assert.match(left([[1, 2], 3]).join('\n'), /ragged nesting at data\[1\]/);
    assert.match(left([[1, 2], ['a', 2]]).join('\n'), /data\[1\]\[0\].*expected a number/);
  });
  test('decodeTensor: Left when the data does not fill the shape', () => {
    assert.match(left({ data: [1, 2, 3], shape: [2, 2] }).join('\n'), /at data: 3 values do not fill shape \[2, 2\] \(4 elements\)/);
    assert.match(left({ data: [1, 2], shape: [2, -1] }).join('\n'), /at shape.*non-negative integer extent, got -1/);
    assert.match(left({ data: 'abc', shape: [3] }).join('\n'), /expected a flat array of numbers/);
  });
  test('decodeTensor: Left for nested arrays as the flat data of { data, shape }', () => {
    // 2 top-level entries fill shape [2], but they are arrays: the values must not be truncated.
    left({ data: [[1, 2], [3, 4]], shape: [2] });
    left({ data: [[1, 2], [3, 4]], shape: [2, 2] });
  });
  test('decodeTensor: Left for non-finite values, naming where', () => {
    assert.match(left([1, Number.NaN]).join('\n'), /non-finite value NaN at data\[1\]/);
    assert.match(left([[1, Number.POSITIVE_INFINITY]]).join('\n'), /non-finite value Infinity at data\[0\]\[1\]/);
    assert.match(left({ data: [1, Number.NEGATIVE_INFINITY], shape: [2] }).join('\n'), /at data: non-finite value -Infinity at data\[1\]/);
    assert.match(left(Number.NaN).join('\n'), /non-finite value NaN/);
    assert.match(left('hello').join('\n'), /expected nested number arrays or \{ data, shape \}/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('lifetimes and backends', () => {
  test('using a disposed tensor throws an InputError naming it', async () => {
    const x = T.tensor([1, 2, 3]);
    x.dispose();
    for (const [op, argument, run] of [
      ['exp', 'x', () => T.exp(x)], ['add', 'a', () => T.add(x, 1)], ['add', 'b', () => T.add(1, x)],
      ['sum', 'x', () => T.sum(x, 0)], ['reshape', 'x', () => T.reshape(x, [3, 1])], ['slice', 'x', () => T.slice(x, [1], [1])],
      ['grad', 'params', () => T.grad((a: Tensor) => T.sum(a))(x)], ['vjp', 'params (leaf 0)', () => T.vjp((a: Tensor) => a, x)],
    ] as const) {
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof InputError, `${op}: InputError, got ${String(e)}`);
        assert.ok(e.message.includes(`#${x.id}`) && e.message.includes('disposed'), `${op}: names the tensor: ${e.message}`);
        if (op !== 'grad') assert.equal(e.argument, argument);
        return true;
      });
    }
    await assert.rejects(x.data(), (e: unknown) => e instanceof InputError && e.message.includes(`#${x.id}`));
  });
  test('a tensor released by its scope throws an InputError when used after it', () => {
    let inner: Tensor | undefined;
    const kept = T.scope(() => {
      inner = T.tensor([1, 2]);
      return T.mul(inner, 2);
    });
    assert.equal(kept.isDisposed, false);
    assert.equal(inner!.isDisposed, true);
    assertError(() => T.exp(inner!), InputError, 'exp', [`#${inner!.id}`, 'disposed'], 'x');
  });
  test('ops that return their input unchanged still refuse a disposed tensor', () => {
    const x = T.tensor([1, 2, 3]);
    x.dispose();
    const silent: string[] = [];
    for (const [op, run] of [
      ['broadcastTo(x, [3])', () => T.broadcastTo(x, [3])],
      ['sumToShape(x, [3])', () => T.sumToShape(x, [3])],
      ['concat([x], 0)', () => T.concat([x], 0)],
      ['dropout(x, 0, key)', () => T.dropout(x, 0, T.key(1))],
      ['sum(x, [], true)', () => T.sum(x, [], true)],
    ] as const) {
      try {
        const r = run();
        silent.push(`${op} returned ${String(r)}`);
      } catch (e) {
        assert.ok(e instanceof InputError && e.message.includes(`#${x.id}`), `${op}: ${String(e)}`);
      }
    }
    assert.deepEqual(silent, [], `disposed tensors accepted without an error:\n${silent.join('\n')}`);
  });
  describe('mixing backends', () => {
    after(async () => {
      await setBackend('cpu64');
    });
    test('tensors of cpu and cpu64 do not mix after setBackend: BackendError naming both', async () => {
      await setBackend('cpu64');
      const a = T.tensor([1, 2]);
      await setBackend('cpu');
      const b = T.tensor([3, 4]);
      assertError(() => T.add(a, b), BackendError, 'add', ["'cpu64'", "'cpu'"], 'a');
      assertError(() => T.mul(b, a), BackendError, 'mul', ["'cpu64'", "'cpu'"], 'b');
      assertError(() => T.exp(a), BackendError, 'exp', ["'cpu64'", "'cpu'"], 'x');
      assertError(() => T.conv2d(z(1, 1, 2, 2), T.reshape(a, [1, 1, 1, 2])), BackendError, 'reshape', ["'cpu64'"]);
      // A tensor still reads back from the backend that made it.
      assert.deepEqual(Array.from(await a.data()), [1, 2]);
      await setBackend('cpu64');
      assertError(() => T.add(b, T.tensor([1, 1])), BackendError, 'add', ["'cpu'", "'cpu64'"], 'a');
    });
  });
});
