/** Stands in for `@aws-sdk/client-lambda` in aws-local-stepfunctions (hooks.ts): the two classes it imports. */
import { deferredClass } from './load-real.js';

export const LambdaClient = deferredClass('@aws-sdk/client-lambda', 'LambdaClient');
export const InvokeCommand = deferredClass('@aws-sdk/client-lambda', 'InvokeCommand');
