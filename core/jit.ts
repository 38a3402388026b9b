/**
 * `jit`: trace a pure function of tensors once per signature, compile it (dead-code elimination,
 * fusion of elementwise chains into single kernels, a static release schedule) and replay the
 * compiled plan on later calls.
 *
 * What is an input and what is a constant (JavaScript has no operator overloading, so host
 * arithmetic inside the function cannot be traced):
 * - tensor leaves of the arguments are inputs;
 * - number leaves that are not declared static arrive inside the function as float32 scalar
 *   tensors, so they may change from call to call without a retrace;
 * - random keys (`{ k0, k1 }` objects, as `key(seed)` makes) arrive as keys whose draws
 *   (`uniform`, `normal`, `dropout`, …) are made afresh from the call's key on every call;
 * - strings, booleans, `null`/`undefined` and the arguments declared static are part of the
 *   signature: another value traces again;
 * - tensors the function closes over are constants of the compiled plan (as in JAX): the plan
 *   holds them, and later changes of the variable that referred to them are not seen.
 */
import { getBackend, type Backend } from './backend.js';
import { Plan, type PlanOptions, type PlanSummary } from './compile/plan.js';
import { TraceRecorder, type TraceHandle } from './compile/trace.js';
import { activeTracer, adopt, isWatched, scope } from './engine.js';
import { InputError } from './errors.js';
import { checkOptionKeys } from './options.js';
import { TracedKey, type RandomKey } from './random.js';
import { Tensor } from './tensor.js';

/** Options of `jit`. */
export interface JitOptions extends PlanOptions {
  /**
   * Arguments that are part of the signature instead of inputs: positions (`[1]`), or names of
   * keys of plain-object arguments (`['mode']`). Their values must be JSON values.
   */
  readonly static?: readonly number[] | readonly string[];
  /**
   * Donate the tensor arguments (`true`: all of them; or the positions of the arguments whose
   * tensors are donated): their buffers are released as soon as the plan no longer needs them (so
   * outputs reuse them), and the tensors are disposed by the call; using one afterwards throws
   * `BackendError`.
   */
  readonly donate?: boolean | readonly number[];
  /** Compiled signatures kept, least recently used dropped first (default 8). */
  readonly cacheSize?: number;
}

/** The keys `JitOptions` has (`fuse` from `PlanOptions`). */
const JIT_KEYS: readonly string[] = ['static', 'donate', 'cacheSize', 'fuse'];

/** Counters of a jitted function. */
export interface JitStats {
  /** Traces made (cache misses). */
  readonly traces: number;
  /** Calls that replayed a cached plan. */
  readonly hits: number;
  /** Calls run eagerly: inside another trace, or under a gradient taken through the arguments. */
  readonly eager: number;
  /** Signatures in the cache now. */
  readonly cached: number;
}

/** A jitted function: `f`'s signature, plus its cache. */
export type Jitted<A extends unknown[], R> = ((...args: A) => R) & {
  /** Counters of traces, cache hits and eager calls. */
  stats(): JitStats;
  /** The compiled plan of the most recent trace: kernel launches per call, fused groups, nodes. */
  lastPlan(): PlanSummary | undefined;
  /** Drops every compiled plan and releases the constants they hold. */
  clear(): void;
};

/** A leaf of the arguments, with the position of the argument it is in. */
type Leaf = ({ readonly kind: 'tensor'; readonly t: Tensor } | { readonly kind: 'number'; readonly v: number } | { readonly kind: 'key'; readonly k: RandomKey }) & { readonly arg: number };

interface Flat {
  readonly leaves: Leaf[];
  /** The signature: structure, shapes, static values. */
  readonly signature: string;
}

function isKey(x: unknown): x is RandomKey {
  if (x instanceof TracedKey) return true;
  if (x === null || typeof x !== 'object' || Object.getPrototypeOf(x) !== Object.prototype) return false;
  const keys = Object.keys(x);
  return keys.length === 2 && typeof (x as RandomKey).k0 === 'number' && typeof (x as RandomKey).k1 === 'number' && keys.includes('k0') && keys.includes('k1');
}

function staticText(x: unknown, path: string): string {
  try {
    const s = JSON.stringify(x);
    if (s !== undefined) return s;
  } catch {
    /* fall through */
  }
  if (x === undefined) return 'undefined';
  throw new InputError('jit', path, `a static argument must be a JSON value, got ${typeof x}`);
}

/** Flattens the arguments into leaves and a signature. */
function flatten(args: readonly unknown[], staticSet: ReadonlySet<number | string>): Flat {
  const leaves: Leaf[] = [];
  let arg = 0;
  const walk = (x: unknown, path: string, isStatic: boolean, top = false): string => {
    if (isStatic) return `s${staticText(x, path)}`;
    if (x instanceof Tensor) {
      x.assertLive('jit', path);
      leaves.push({ kind: 'tensor', t: x, arg });
      return `t[${x.shape.join(',')}]`;
    }
    if (typeof x === 'number') {
      leaves.push({ kind: 'number', v: x, arg });
      return 'n';
    }
    if (isKey(x)) {
      leaves.push({ kind: 'key', k: x, arg });
      return 'k';
    }
    if (Array.isArray(x)) return `[${x.map((v, i) => walk(v, `${path}[${i}]`, false)).join(',')}]`;
    if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      return `{${Object.entries(x).map(([k, v]) => `${JSON.stringify(k)}:${walk(v, `${path}.${k}`, top && staticSet.has(k))}`).join(',')}}`;
    }
    if (x === null || x === undefined || typeof x === 'boolean' || typeof x === 'string') return `s${staticText(x, path)}`;
    throw new InputError('jit', path, `expected tensors, numbers, random keys, arrays or plain objects (or a static JSON value), got ${typeof x === 'object' ? 'an instance of a class' : typeof x}`);
  };
  const signature = args.map((a, i) => {
    arg = i;
    return walk(a, `argument ${i}`, staticSet.has(i), true);
  }).join(';');
  return { leaves, signature };
}

/** Rebuilds the arguments with each leaf replaced by `replace(leaf, index)`. */
function rebuild(args: readonly unknown[], staticSet: ReadonlySet<number | string>, replace: (index: number) => unknown): unknown[] {
  let i = 0;
  const walk = (x: unknown, top: boolean, isStatic: boolean): unknown => {
    if (isStatic) return x;
    if (x instanceof Tensor || typeof x === 'number' || isKey(x)) return replace(i++);
    if (Array.isArray(x)) return x.map((v) => walk(v, false, false));
    if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v, false, top && staticSet.has(k))]));
    }
    return x;
  };
  return args.map((a, j) => walk(a, true, staticSet.has(j)));
}

/** A result tree with its tensors taken out: `fill(tensors)` rebuilds it. */
function template(result: unknown): { tensors: Tensor[]; fill: (ts: readonly Tensor[]) => unknown } {
  const tensors: Tensor[] = [];
  const walk = (x: unknown): unknown => {
    if (x instanceof Tensor) {
      tensors.push(x);
      return { __tensor: tensors.length - 1 };
    }
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
    return x;
  };
  const shape = walk(result);
  const fill = (ts: readonly Tensor[]): unknown => {
    const build = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(build);
      if (x !== null && typeof x === 'object') {
        const idx = (x as { __tensor?: number }).__tensor;
        if (idx !== undefined) return ts[idx];
        return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, build(v)]));
      }
      return x;
    };
    return build(shape);
  };
  return { tensors, fill };
}

interface Compiled {
  readonly plan: Plan;
  readonly fill: (ts: readonly Tensor[]) => unknown;
}

const backendIds = new WeakMap<Backend, number>();
let nextBackendId = 0;
function backendId(b: Backend): number {
  let id = backendIds.get(b);
  if (id === undefined) backendIds.set(b, (id = nextBackendId++));
  return id;
}

/**
 * Compiles `f`: the first call with a given signature (tree structure and shapes of the
 * arguments, static arguments' values, the selected backend) traces `f` (through `valueAndGrad`,
 * `grad` and `vjp` too) into a graph of primitives, fuses and plans it, and runs it; later calls
 * with the same signature replay the plan. Results are bit-identical to calling `f` eagerly on
 * the `cpu`, `cpu64` and `wasm` backends.
 *
 * Reading tensor values inside `f` throws `InputError`; so does `f` returning a Promise. Shape
 * errors surface at the first call, naming the op and shapes as in eager mode. Inside another
 * traced function, or when a gradient is being taken through its arguments (`valueAndGrad(jit(f))`),
 * a jitted function runs `f` eagerly, so it stays differentiable. An unknown option key is an
 * `InputError` naming it (`options.donates`: unknown option 'donates' (did you mean 'donate'?)).
 *
 * @example
 * import { jit, tensor, sub, mul, type Tensor } from 'boundary-seg';
 *
 * const step = jit((p: Tensor, g: Tensor, lr: number) => sub(p, mul(g, lr)));
 * const g = tensor([0.5, -0.5]);
 * const p2 = step(tensor([1, 2]), g, 0.01); // traces and runs
 * const p3 = step(p2, g, 0.005); // replays: lr is an input, not a constant
 * console.log(await p3.data(), step.stats()); // [0.9925, 2.0075], { traces: 1, hits: 1, … }
 */
export function jit<A extends unknown[], R>(f: (...args: A) => R, options: JitOptions = {}): Jitted<A, R> {
  if (typeof f !== 'function') throw new InputError('jit', 'f', 'expected a function');
  checkOptionKeys('jit', options, JIT_KEYS);
  const cacheSize = options.cacheSize ?? 8;
  if (!(Number.isInteger(cacheSize) && cacheSize >= 1)) throw new InputError('jit', 'options.cacheSize', `expected a positive integer, got ${String(options.cacheSize)}`);
  const staticList = options.static ?? [];
  if (!Array.isArray(staticList) || !staticList.every((s) => (typeof s === 'number' && Number.isInteger(s) && s >= 0) || typeof s === 'string')) {
    throw new InputError('jit', 'options.static', 'expected argument positions (non-negative integers) or names of keys of object arguments');
  }
  const staticSet = new Set<number | string>(staticList);
  const donate = options.donate ?? false;
  if (!(typeof donate === 'boolean' || (Array.isArray(donate) && donate.every((d) => Number.isInteger(d) && d >= 0)))) {
    throw new InputError('jit', 'options.donate', 'expected a boolean or argument positions (non-negative integers)');
  }
  const donates = (arg: number): boolean => donate === true || (Array.isArray(donate) && donate.includes(arg));
  const cache = new Map<string, Compiled>();
  let traces = 0;
  let hits = 0;
  let eager = 0;
  let last: PlanSummary | undefined;

  const compile = (backend: Backend, args: readonly unknown[], flat: Flat): Compiled => scope(() => {
    const recorder = new TraceRecorder(backend);
    let keyIndex = 0;
    let inputIndex = 0;
    const traced = rebuild(args, staticSet, (i) => {
      const leaf = flat.leaves[i]!;
      if (leaf.kind === 'key') {
        const j = keyIndex++;
        return new TracedKey(leaf.k.k0, leaf.k.k1, (keys) => keys[j]!);
      }
      const shape = leaf.kind === 'tensor' ? leaf.t.shape : [];
      return adopt(recorder.input(shape, inputIndex++) as TraceHandle, shape, recorder.backend);
    });
    const out = recorder.run(() =>
      scope(() => {
        const r = f(...(traced as A));
        if (r instanceof Promise) {
          r.catch(() => undefined);
          throw new InputError('jit', 'f', 'a jitted function must be synchronous; it returned a Promise');
        }
        return r;
      }),
    );
    const t = template(out);
    const plan = new Plan(backend, recorder.graph(t.tensors), options);
    return { plan, fill: t.fill };
  });

  const call = (...args: A): R => {
    // Inside another trace, or under a gradient through the arguments: run f as it is.
    if (activeTracer() !== undefined || isWatched(args)) {
      eager++;
      return f(...args);
    }
    const backend = getBackend();
    const flat = flatten(args, staticSet);
    const sig = `${backendId(backend)}|${flat.signature}`;
    let compiled = cache.get(sig);
    if (compiled) {
      hits++;
      cache.delete(sig);
      cache.set(sig, compiled);
    } else {
      compiled = compile(backend, args, flat);
      traces++;
      cache.set(sig, compiled);
      last = compiled.plan.summary;
      while (cache.size > cacheSize) {
        const [oldest, entry] = cache.entries().next().value as [string, Compiled];
        cache.delete(oldest);
        entry.plan.dispose();
      }
    }
    // Gather the inputs: tensor handles, and the numbers uploaded as float32 scalars (owned by
    // the plan, which releases them after their last use).
    const inputs: unknown[] = [];
    const owned = new Set<number>();
    const keys: RandomKey[] = [];
    const tensorInputs: { readonly t: Tensor; readonly index: number; readonly arg: number }[] = [];
    for (const leaf of flat.leaves) {
      if (leaf.kind === 'key') keys.push(leaf.k);
      else if (leaf.kind === 'tensor') {
        if (leaf.t.backend !== backend) throw new InputError('jit', 'arguments', `tensor #${leaf.t.id} lives on backend '${leaf.t.backend.name}' but the selected backend is '${backend.name}'`);
        tensorInputs.push({ t: leaf.t, index: inputs.length, arg: leaf.arg });
        inputs.push(leaf.t.handle);
      } else {
        owned.add(inputs.length);
        inputs.push(backend.upload([leaf.v], []));
      }
    }
    // Donation: only tensors passed once can be given up early.
    const donated: Tensor[] = [];
    if (donate !== false) {
      const counts = new Map<Tensor, number>();
      for (const { t } of tensorInputs) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const { t, index, arg } of tensorInputs) {
        if (counts.get(t) === 1 && donates(arg)) {
          owned.add(index);
          donated.push(t);
        }
      }
    }
    let handles: unknown[];
    try {
      handles = compiled.plan.run({ inputs, owned, keys });
    } catch (e) {
      for (const t of donated) t.markDonated();
      throw e;
    }
    for (const t of donated) t.markDonated();
    const outShapes = compiled.plan.outputShapes;
    return compiled.fill(handles.map((h, i) => adopt(h, outShapes[i]!, backend))) as R;
  };

  return Object.assign(call, {
    stats: (): JitStats => ({ traces, hits, eager, cached: cache.size }),
    lastPlan: () => last,
    clear: () => {
      for (const c of cache.values()) c.plan.dispose();
      cache.clear();
    },
  });
}
