/**
 * The playground page's test API: what `web/src/main.ts` installs as `window.playground`, so that a
 * browser test (or a curious user at the console) can drive the page and read its numbers. Types
 * only; no DOM.
 */

/** The preset shapes of the painting grid (see `presetMasks` in `web/src/presets.ts`). */
export type PresetName = 'disk' | 'ring' | 'vessel' | 'lesions';

/** The two sign conventions of the signed distance map (docs/conventions.md). */
export type PlaygroundConvention = 'reference' | 'interface';

/** The numbers and maps of one update of the page. */
export interface PlaygroundResults {
  /** What computed it, e.g. `'cpu'`, `'wasm'`, `'gpujs:webgl'`, `'gpujs:webgpu'`. */
  backend: string;
  convention: PlaygroundConvention;
  /** Grid side N (masks are N×N, row-major). */
  size: number;
  /** t in [0, 1]: the prediction is s = (1 − t)·S + t·G. */
  blend: number;
  /** Time of the update, milliseconds. */
  ms: number;
  /** Boundary loss on class 1 (mean over the N·N pixels of φ_G·s). */
  boundaryLoss: number;
  /** Generalized Dice loss over both classes (MONAI's class weights). */
  gdl: number;
  /** Soft Dice loss, mean over both classes. */
  dice: number;
  /** Cross-entropy over both classes. */
  ce: number;
  /** Σ_q φ_G(q)(s(q) − g(q)) and Σ_{q ∈ ΔS} D_G(q) (pixels², float64 sums in row-major order). */
  identity: { lhs: number; rhs: number };
  /** 2 · rhs: the estimate of the contour distance Dist(∂G, ∂S) (pixels²). */
  contour: number;
  /** The continuum value of 2∫_ΔS D_G for the disk preset (concentric disks of radii R_G, R_S; pixels²). */
  continuum?: number;
  /** φ_G of the foreground class, N·N values (pixels). */
  phi: number[];
  /** ∂L_B/∂s, N·N values (per pixel: φ_G / N²). */
  grad: number[];
}

/** `window.playground`. Each setter resolves after the update it causes has finished. */
export interface PlaygroundApi {
  /** Grid side N. */
  readonly size: number;
  /** Resolves when the first update has finished. */
  ready: Promise<void>;
  /** The backend menu's entries that started in this browser. */
  backends(): string[];
  /** Selects a backend (one of `backends()`) and recomputes. */
  setBackend(choice: string): Promise<void>;
  setConvention(c: PlaygroundConvention): Promise<void>;
  /** Sets G and S to `presetMasks(name, size)` and the blend to 0. */
  preset(name: PresetName): Promise<void>;
  /** Sets G and S (N·N values, each 0 or 1, row-major). */
  setMasks(gt: ArrayLike<number>, pred: ArrayLike<number>): Promise<void>;
  /** Sets the blend t in [0, 1]. */
  setBlend(t: number): Promise<void>;
  /** The results of the last update. */
  results(): PlaygroundResults;
}
