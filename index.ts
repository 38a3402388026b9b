/**
 * boundary-seg: the boundary loss for highly unbalanced segmentation on a purely functional tensor
 * and autodiff engine with pluggable backends. Importing the package root registers the built-in
 * backends and Node's host (files and worker threads: `core/host.ts`). The browser build of the
 * package root is `browser.ts`.
 */
import './backends/register.js';

export * from './core/index.js';
export * from './losses/index.js';
export * from './metrics/index.js';
export * from './models/index.js';
export * from './data/index.js';
