/**
 * Counter-based randomness (Threefry-2x32, 20 rounds, as in JAX). A key is an explicit value; the
 * same key always gives the same numbers, on every backend (values are generated on the host and
 * uploaded). There is no hidden global state.
 */
import { activeTracer, adopt, upload } from './engine.js';
import { InputError } from './errors.js';
import { checkShape, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

/** A random key: two 32-bit words. */
export interface RandomKey {
  readonly k0: number;
  readonly k1: number;
}

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** Threefry-2x32 block function: 64 random bits for counter (c0, c1) under a key. */
export function threefry2x32(key: RandomKey, c0: number, c1: number): [number, number] {
  const ks0 = key.k0 >>> 0;
  const ks1 = key.k1 >>> 0;
  const ks2 = (ks0 ^ ks1 ^ 0x1bd11bda) >>> 0;
  const ks = [ks0, ks1, ks2];
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  const rot = [[13, 15, 26, 6], [17, 29, 16, 24]] as const;
  for (let i = 0; i < 5; i++) {
    for (const r of rot[i % 2]!) {
      x0 = (x0 + x1) >>> 0;
      x1 = rotl(x1, r);
      x1 = (x1 ^ x0) >>> 0;
    }
    x0 = (x0 + ks[(i + 1) % 3]!) >>> 0;
    x1 = (x1 + ks[(i + 2) % 3]! + i + 1) >>> 0;
  }
  return [x0, x1];
}

/**
 * @internal a key argument of a function traced by `jit`: it has the trace-time words (so host
 * code that reads them still works) and a recipe that derives it from the call's key arguments,
 * so that random draws inside the traced function are made afresh on every call.
 */
export class TracedKey implements RandomKey {
  constructor(readonly k0: number, readonly k1: number, readonly resolve: (keys: readonly RandomKey[]) => RandomKey) {}
}

/** @internal the key of the current call that `k` stands for. */
function derive(k: RandomKey, f: (k: RandomKey) => RandomKey): RandomKey {
  const now = f(k);
  return k instanceof TracedKey ? new TracedKey(now.k0, now.k1, (keys) => f(k.resolve(keys))) : now;
}

/**
 * Host values drawn from a key, uploaded as a tensor; under a `jit` trace with a key argument,
 * a graph node that draws them again on every call.
 */
function drawn(k: RandomKey, shape: readonly number[], gen: (k: RandomKey) => Float64Array): Tensor {
  const t = activeTracer();
  if (k instanceof TracedKey && t) {
    return adopt(t.host(shape, (keys) => gen(k.resolve(keys))), shape, t.recorder);
  }
  return upload(gen(k), shape);
}

/** A key from an integer seed (0 ≤ seed < 2⁵³). */
export function key(seed: number): RandomKey {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError('key', 'seed', `expected a non-negative safe integer, got ${seed}`);
  return { k0: Math.floor(seed / 2 ** 32) >>> 0, k1: seed >>> 0 };
}

/** `n` independent keys derived from one. */
export function split(k: RandomKey, n = 2): RandomKey[] {
  if (!Number.isInteger(n) || n < 1) throw new InputError('split', 'n', `expected a positive integer, got ${n}`);
  return Array.from({ length: n }, (_, i) => derive(k, (kk) => {
    const [a, b] = threefry2x32(kk, i, 0xffffffff);
    return { k0: a, k1: b };
  }));
}

/** A key derived from `k` and an integer (e.g. a step or epoch number). */
export function foldIn(k: RandomKey, data: number): RandomKey {
  return derive(k, (kk) => {
    const [a, b] = threefry2x32(kk, data >>> 0, 0xfffffffe);
    return { k0: a, k1: b };
  });
}

/** `n` raw 32-bit words for a key (counters 0 … ⌈n/2⌉ − 1). */
export function randomBits(k: RandomKey, n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i += 2) {
    const [a, b] = threefry2x32(k, i >>> 1, 0);
    out[i] = a;
    if (i + 1 < n) out[i + 1] = b;
  }
  return out;
}

/** Host array of uniform floats in [0, 1) (24-bit resolution). */
export function uniformArray(k: RandomKey, n: number): Float64Array {
  const bits = randomBits(k, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (bits[i]! >>> 8) * 2 ** -24;
  return out;
}

/** Host array of standard normal floats (Box–Muller on uniform pairs). */
export function normalArray(k: RandomKey, n: number): Float64Array {
  const u = uniformArray(k, n + (n % 2));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u[i]!));
    const t = 2 * Math.PI * u[i + 1]!;
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Uniform values in [lo, hi). */
export function uniform(k: RandomKey, shape: readonly number[], lo = 0, hi = 1): Tensor {
  checkShape('uniform', 'shape', shape);
  return drawn(k, shape, (kk) => {
    const u = uniformArray(kk, sizeOf(shape));
    for (let i = 0; i < u.length; i++) u[i] = lo + (hi - lo) * u[i]!;
    return u;
  });
}

/** Normal values with the given mean and standard deviation. */
export function normal(k: RandomKey, shape: readonly number[], mean = 0, std = 1): Tensor {
  checkShape('normal', 'shape', shape);
  return drawn(k, shape, (kk) => {
    const z = normalArray(kk, sizeOf(shape));
    for (let i = 0; i < z.length; i++) z[i] = mean + std * z[i]!;
    return z;
  });
}
