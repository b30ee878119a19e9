/**
 * Records every AWS SDK call this process makes: a middleware added to each client's stack on its first send
 * (patched onto the SDK's shared Client base class), noting the client, the command and its input. The IAM test
 * (test/stack/iam-behaviour.aws-standins.test.ts) maps what it records to IAM actions.
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface SdkCall {
  client: string;
  command: string;
  input: Record<string, unknown>;
}

interface MiddlewareStack {
  add(middleware: unknown, options: { step: string; name: string }): void;
}
interface SdkClient {
  middlewareStack: MiddlewareStack;
}
type Send = (this: SdkClient, ...args: unknown[]) => Promise<unknown>;

const calls: SdkCall[] = [];
const instrumented = new WeakSet<MiddlewareStack>();
let installed: { proto: { send: Send }; original: Send } | undefined;

/** Starts recording (idempotent). Every client class of the SDK v3 extends the same base Client. */
export function installSdkRecorder(): void {
  if (installed) return;
  const proto = Object.getPrototypeOf(S3Client.prototype) as { send: Send };
  const original = proto.send;
  proto.send = function (this: SdkClient, ...args: unknown[]) {
    const stack = this.middlewareStack;
    if (!instrumented.has(stack)) {
      instrumented.add(stack);
      stack.add(
        (next: (a: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) =>
          async (a: { input?: Record<string, unknown> }) => {
            calls.push({
              client: context.clientName ?? '?',
              command: context.commandName ?? '?',
              input: a.input ?? {},
            });
            return next(a);
          },
        { step: 'initialize', name: 'highwaterSdkRecorder' },
      );
    }
    return original.apply(this, args);
  };
  installed = { proto, original };
}

/** Runs `body` and returns the SDK calls made meanwhile (calls of anything else running at the same time too). */
export async function recordSdkCalls<T>(body: () => Promise<T>): Promise<{ result: T; calls: SdkCall[] }> {
  installSdkRecorder();
  const from = calls.length;
  const result = await body();
  return { result, calls: calls.slice(from) };
}
