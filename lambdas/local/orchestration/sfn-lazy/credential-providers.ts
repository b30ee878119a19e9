/** Stands in for `@aws-sdk/credential-providers` in aws-local-stepfunctions (hooks.ts): the one function it imports. */
import { loadReal } from './load-real.js';

export function fromCognitoIdentityPool(...args: unknown[]): unknown {
  const fn: unknown = (loadReal('@aws-sdk/credential-providers') as Record<string, unknown>).fromCognitoIdentityPool;
  if (typeof fn !== 'function')
    throw new Error('@aws-sdk/credential-providers has no export fromCognitoIdentityPool: its version changed');
  return (fn as (...a: unknown[]) => unknown)(...args);
}
