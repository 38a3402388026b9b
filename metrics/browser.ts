/** `boundary-seg/metrics` in a browser: the whole API of the Node entry (`portable.ts`), registering the built-in backends for a browser. */
import '../backends/register-browser.js';

export * from './portable.js';
