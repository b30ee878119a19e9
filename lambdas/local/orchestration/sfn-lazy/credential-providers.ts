/** Stands in for `@aws-sdk/credential-providers` in aws-local-stepfunctions (hooks.ts): the one function it imports. */
import { deferredFunction } from './load-real.js';

export const fromCognitoIdentityPool = deferredFunction('@aws-sdk/credential-providers', 'fromCognitoIdentityPool');
