/**
 * Fused elementwise kernels on the CPU backends: each `FusedKernel` program becomes one generated
 * JavaScript loop nest over the collapsed output, calling the same operator functions as the
 * unfused kernels (`elementwise.ts`) and rounding every value to the storage precision, exactly
 * as storing it into a Float32Array (or Float64Array on `cpu64`) would.
 *
 * NOTE: bit-identity. An unfused kernel computes `f(a, b)` in doubles and stores it, which rounds
 * to float32; the fused loop applies `Math.fround` after every operation, so each intermediate is
 * the float32 value the unfused kernel would have stored, and the outputs are bit-identical.
 */
import { collapseFused, type FusedKernel, type FusedOpTable } from '../../core/compile/fused.js';
import { binaryFns, compareFns, unaryFns, type BinaryFn, type UnaryFn } from './elementwise.js';
import type { FloatArray } from './storage.js';

/** The operator functions a fused program calls: the unfused kernels' own. */
const TABLE: FusedOpTable<UnaryFn, BinaryFn> = { unary: unaryFns, binary: binaryFns, compare: compareFns };

/** A compiled loop: reads `ins`, writes every array of `outs` (all of the kernel's size). */
export type FusedLoop = (ins: readonly FloatArray[], outs: readonly FloatArray[]) => void;

/**
 * Generates the loop of a fused kernel. `float32` rounds every intermediate with `Math.fround`
 * (the `cpu` backend); without it values stay doubles (`cpu64`).
 */
export function compileFusedLoop(kernel: FusedKernel, float32: boolean): FusedLoop {
  const { dims, strides } = collapseFused(kernel);
  const r = dims.length;
  const round = (e: string) => (float32 ? `fr(${e})` : e);
  const lines: string[] = [];
  const nIn = kernel.inputs.length;
  for (let k = 0; k < nIn; k++) lines.push(`const x${k} = ins[${k}];`);
  kernel.outputs.forEach((_, j) => lines.push(`const y${j} = outs[${j}];`));
  for (let k = 0; k < nIn; k++) lines.push(`let p${k}_0 = ${kernel.inputs[k]!.offset ?? 0};`);
  lines.push('let w = 0;');
  // Loop nest: axis d advances each input's offset p{k}_{d+1} by its stride on that axis.
  for (let d = 0; d < r; d++) {
    const init = Array.from({ length: nIn }, (_, k) => `p${k}_${d + 1} = p${k}_${d}`).join(', ');
    const step = Array.from({ length: nIn }, (_, k) => (strides[k]![d] === 0 ? '' : `p${k}_${d + 1} += ${strides[k]![d]}`)).filter(Boolean);
    lines.push(`for (let i${d} = 0${nIn ? `, ${init}` : ''}; i${d} < ${dims[d]}; i${d}++${step.length ? `, ${step.join(', ')}` : ''}) {`);
  }
  const body: string[] = [];
  kernel.ops.forEach((op, i) => {
    switch (op.kind) {
      case 'load':
        body.push(`const v${i} = x${op.input}[p${op.input}_${r}];`);
        break;
      case 'const':
        body.push(`const v${i} = ${float32 ? `fr(${numberLiteral(op.value)})` : numberLiteral(op.value)};`);
        break;
      case 'unary':
        body.push(`const v${i} = ${round(`U.${op.op}(v${op.a})`)};`);
        break;
      case 'binary':
        body.push(`const v${i} = ${round(`B.${op.op}(v${op.a}, v${op.b})`)};`);
        break;
      case 'compare':
        body.push(`const v${i} = C.${op.op}(v${op.a}, v${op.b});`);
        break;
      case 'where':
        // NOTE: as mapWhere: the condition selects `a` when it is not 0 (NaN selects `a`).
        body.push(`const v${i} = v${op.c} !== 0 ? v${op.a} : v${op.b};`);
        break;
    }
  });
  kernel.outputs.forEach((o, j) => body.push(`y${j}[w] = v${o};`));
  body.push('w++;');
  lines.push(...body.map((l) => `  ${l}`));
  for (let d = 0; d < r; d++) lines.push('}');
  const source = lines.join('\n');
  const make = new Function('U', 'B', 'C', 'fr', `return function fused(ins, outs) {\n${source}\n};`) as (
    u: typeof TABLE.unary, b: typeof TABLE.binary, c: typeof TABLE.compare, fr: (x: number) => number) => FusedLoop;
  const loop = make(TABLE.unary, TABLE.binary, TABLE.compare, Math.fround);
  // Zero-size outputs run nothing (the loop bounds are 0 as well, but skip the call).
  return kernel.shape.some((e) => e === 0) ? () => undefined : loop;
}

/** A JavaScript literal for any number (NaN, ±Infinity and -0 included). */
function numberLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}
