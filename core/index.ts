/**
 * The core: tensors, primitives and their rules, composite ops, autodiff, lifetimes, randomness,
 * errors and codecs. It registers no backend: import the package root or `boundary-seg/backends`.
 */
export { BackendError, BoundarySegError, InputError, ShapeError, type ErrorContext } from './errors.js';
export { Tensor, isTensor, type NestedArray } from './tensor.js';
export { sizeOf, stridesOf, broadcastShapes, type Shape } from './shape.js';
export { PRIM_NAMES, type PrimName, type PrimParams, type ConvParams, type CompareOp } from './primitives.js';
export {
  getBackend, setBackend, registerBackend, listBackends, parseBackendSpec, memory,
  type Backend, type BackendDescription, type BackendStats, type BackendFactory, type Kernel, type KernelInput, type KernelTable, type MemoryInfo,
} from './backend.js';
export { scope, keep, dispose } from './engine.js';
export { rules, conv2dShape, convOutSize, type Rule } from './rules.js';
export * from './ops.js';
export * from './nn.js';
export { vjp, grad, valueAndGrad, type GradOptions } from './autodiff.js';
export { jit, type JitOptions, type JitStats, type Jitted } from './jit.js';
export type { PlanSummary } from './compile/plan.js';
export type { FusedKernel, FusedOp, FusedInput, FusedRunner, FusedOpTable } from './compile/fused.js';
export { PRIM_CLASS, type PrimClass } from './compile/fuse.js';
export { key, split, foldIn, uniform, normal, uniformArray, normalArray, randomBits, threefry2x32, type RandomKey } from './random.js';
export { treeLeaves, treeMap, treeUnflatten, treeZip, type Tree } from './tree.js';
export { decodeTensor, formatErrors, ArrayInput, FiniteNumber, ShapeCodec, type DecodedArray } from './codecs.js';
export { getHost, setHost, type Host, type HostFiles, type HostWorkers, type HostWorker, type HostPort } from './host.js';
