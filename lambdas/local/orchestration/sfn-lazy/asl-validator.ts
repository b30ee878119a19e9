/**
 * Stands in for `asl-validator` in aws-local-stepfunctions (hooks.ts). Node's ESM import of a CommonJS module hands
 * out its `module.exports` as the default export, so the stand-in calls that.
 */
import { loadReal } from './load-real.js';

export default function aslValidator(...args: unknown[]): unknown {
  const validator = loadReal('asl-validator');
  if (typeof validator !== 'function') throw new Error('asl-validator does not export a function: its version changed');
  return (validator as (...a: unknown[]) => unknown)(...args);
}
