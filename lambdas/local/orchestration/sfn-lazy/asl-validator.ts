/**
 * Stands in for `asl-validator` in aws-local-stepfunctions (hooks.ts). Node's ESM import of a CommonJS module hands
 * out its `module.exports` as the default export, so the stand-in calls that.
 */
import { deferredFunction } from './load-real.js';

export default deferredFunction('asl-validator');
