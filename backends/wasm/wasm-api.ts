/**
 * The slice of the WebAssembly JavaScript API the backend uses, typed here: the project compiles
 * with `lib: ES2022` and Node's types, neither of which declares the `WebAssembly` global.
 */

/** A `WebAssembly.Memory` (shared: its buffer is a SharedArrayBuffer; else an ArrayBuffer, detached by growth). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** A compiled `WebAssembly.Module` (opaque; can be sent to workers). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** An instance's exports. */
export type WasmExports = Record<string, unknown>;

interface WasmApi {
  readonly Module: { new (bytes: Uint8Array): WasmModule; exports(m: WasmModule): { name: string; kind: string }[] };
  readonly Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: WasmExports };
  readonly Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

/** The global `WebAssembly` object. */
export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
