/**
 * An S3 stand-in for tests: fauxqs (in-memory S3/SQS/SNS) in its own Node process, bound to 127.0.0.1 on a free
 * port. Its own process keeps its memory (the stored objects) out of the test's measurements, lets a test stop it
 * mid-request, and lets us fix its key order without touching the test process.
 * fauxqs 1.9.2 has no ListMultipartUploads (GET ?uploads answers as an empty plain listing) and no ListParts:
 * to check that an upload is gone, abort it again and expect NoSuchUpload.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './free-port.js';

/** fauxqs accepts any credentials; these are obviously not real ones. */
export const FAUXQS_CREDENTIALS = { accessKeyId: 'HWTESTACCESSKEY', secretAccessKey: 'hw-test-secret-not-real' };

export interface FauxqsInstance {
  endpoint: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/*
 * Runs in the child. `startFauxqs` from the package always listens on 0.0.0.0, so the app is built and bound here.
 * S3 lists keys in UTF-8 byte order; fauxqs 1.9.2 sorts them with localeCompare (ICU: "_" < "-" < "/") while it
 * pages with `key <= startAfter`, which reorders keys and can skip some at a page break. In this process, which
 * runs nothing but fauxqs, localeCompare is made a code-unit comparison (= UTF-8 byte order outside astral
 * characters), so listings come back as S3 returns them.
 */
const SERVER_SCRIPT = `
String.prototype.localeCompare = function (that) {
  const a = String(this), b = String(that);
  return a < b ? -1 : a > b ? 1 : 0;
};
const { buildApp } = await import('fauxqs');
const app = buildApp({ logger: false });
await app.listen({ port: Number(process.env.HW_FAUXQS_PORT), host: '127.0.0.1' });
process.stdout.write('listening\\n');
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', stop);
// The parent holds our stdin: if it dies without stopping us, the pipe closes and we go too.
process.stdin.on('end', stop);
process.stdin.resume();
`;

async function waitUntilListening(child: ChildProcess, stderr: () => string): Promise<void> {
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening\n')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`fauxqs exited before listening (code ${code}, signal ${signal}): ${stderr()}`)),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`fauxqs did not listen within 20 s: ${stderr()}`)), 20_000);
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startFauxqs(): Promise<FauxqsInstance> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, HW_FAUXQS_PORT: String(port) };
  delete env.NODE_OPTIONS; // the test runner's loader flags are not for this process
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER_SCRIPT], {
    cwd: REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = once(child, 'exit');
  exited.catch(() => undefined); // a spawn failure is reported by waitUntilListening
  try {
    await waitUntilListening(child, () => stderr);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: FAUXQS_CREDENTIALS });
  return {
    endpoint,
    client,
    async createBucket(name: string): Promise<void> {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop(): Promise<void> {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
