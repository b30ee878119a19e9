/** Step Functions errors as Highwater errors: what went wrong, in words, with the CLI's exit code. */
import { ConfigError, ConnectionError, HighwaterError } from '../../../lambdas/errors.js';

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException']);
const CREDENTIALS = new Set(['CredentialsProviderError', 'ExpiredTokenException', 'InvalidSignatureException']);

/** `what` names the operation and its target, e.g. "DescribeExecution arn:…". */
export function sfnError(e: unknown, what: string): HighwaterError {
  if (e instanceof HighwaterError) return e;
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  if (ACCESS_DENIED.has(name)) {
    return new ConfigError(`${what}: access denied by AWS (${message})`, {
      cause: e,
      suggestion: 'Use credentials allowed to call Step Functions on this state machine (states:StartExecution, …).',
    });
  }
  if (CREDENTIALS.has(name)) {
    return new ConfigError(`${what}: no usable AWS credentials (${message})`, {
      cause: e,
      suggestion: 'Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and AWS_REGION.',
    });
  }
  if (name === 'ExecutionDoesNotExist') {
    return new ConfigError(`${what}: no such execution`, {
      cause: e,
      suggestion: 'Check the ARN (and the region); `highwater executions list` shows recent executions.',
    });
  }
  if (name === 'StateMachineDoesNotExist') {
    return new ConfigError(`${what}: no such state machine`, {
      cause: e,
      suggestion: 'Check --state-machine-arn / HIGHWATER_STATE_MACHINE_ARN and the region.',
    });
  }
  if (
    ['InvalidArn', 'InvalidExecutionInput', 'InvalidName', 'ExecutionAlreadyExists', 'ValidationException'].includes(
      name,
    )
  ) {
    return new ConfigError(`${what}: ${name}: ${message}`, { cause: e });
  }
  return new ConnectionError(`${what}: Step Functions call failed: ${name}: ${message}`, { cause: e });
}
