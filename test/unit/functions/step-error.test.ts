/**
 * What a Lambda entry point throws to Step Functions (lambdas/functions/invoke.ts errorForStepFunctions): Lambda
 * reports the error's name, message and stack (its `trace`) as the step's Cause, which Step Functions keeps in the
 * execution's history and log group. Secrets the runtime resolved must not be in any of them; the name Retry and
 * Catch match on must be the one aslErrorName() gives; the class stays.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConnectionError, WarehouseError } from '../../../lambdas/errors.js';
import { errorForStepFunctions } from '../../../lambdas/functions/invoke.js';

const SECRET = 'pa55-w0rd-s3cret';
const redact = (t: string) => t.split(SECRET).join('***');

/** The error as the Node.js Lambda runtime reports it to the caller (errorType, errorMessage, trace). */
function asLambdaReports(e: Error): string {
  return JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: e.stack?.split('\n') ?? [] });
}

describe('errorForStepFunctions', () => {
  it('redacts the message and the stack, drops the cause, and keeps the class and the Retry name', () => {
    const original = new ConnectionError(`cannot connect to mysql://app:${SECRET}@db:3306`, {
      cause: new Error(`ER_ACCESS_DENIED for password ${SECRET}`),
    });
    expect(original.stack).toContain(SECRET);
    const thrown = errorForStepFunctions(original, redact);
    expect(thrown).toBe(original);
    expect(thrown).toBeInstanceOf(ConnectionError);
    expect(thrown.name).toBe('ConnectionError');
    expect(thrown.message).toBe('cannot connect to mysql://app:***@db:3306');
    expect(thrown.stack?.split('\n')[0]).toBe('ConnectionError: cannot connect to mysql://app:***@db:3306');
    expect(thrown.stack).toMatch(/\n\s+at /);
    expect((thrown as { cause?: unknown }).cause).toBeUndefined();
    expect(asLambdaReports(thrown)).not.toContain(SECRET);
  });

  it('renames an instance whose retry class differs from its class (a permanent WarehouseError)', () => {
    const thrown = errorForStepFunctions(new WarehouseError(`COPY failed: ${SECRET}`, { transient: false }), redact);
    expect(thrown.name).toBe('WarehouseError');
    const transient = errorForStepFunctions(new WarehouseError(`throttled ${SECRET}`, { transient: true }), redact);
    expect(transient.name).toBe('Highwater.Transient');
    expect(asLambdaReports(transient)).not.toContain(SECRET);
  });

  it('handles a class whose message is a getter (ZodError) and a thrown value that is no Error', () => {
    const parsed = z.object({ password: z.literal('x') }).safeParse({ password: SECRET });
    const zod = parsed.success ? null : parsed.error;
    expect(zod).not.toBeNull();
    const thrown = errorForStepFunctions(zod, redact);
    expect(thrown).toBeInstanceOf(z.ZodError);
    expect(thrown.name).toBe('ZodError');
    expect(asLambdaReports(thrown)).not.toContain(SECRET);
    const fromString = errorForStepFunctions(`boom ${SECRET}`, redact);
    expect(fromString.message).toBe('boom ***');
    expect(fromString.name).toBe('Error');
  });
});
