/**
 * A private DynamoDB Local (the official jar, Java 17) for one test file: in memory, on a free port, stopped in
 * afterAll. The jar is installed on first use by scripts/install-dynamodb-local.sh, so `npx vitest` works on a
 * developer machine as well as in CI.
 *
 * DynamoDB Local has no option to choose the listen address: it binds every interface. It is in memory, lives
 * only as long as the test file and accepts any credentials, so nothing outlives the test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { stateTableDefinition } from '../../lambdas/adapters/dynamodb-state/index.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface DynamoDbLocal {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export function dynamoDbLocalDir(): string {
  return process.env.DYNAMODB_LOCAL_DIR ?? join(homedir(), '.cache', 'highwater', 'dynamodb-local');
}

/** Any credentials work; fixed ones keep the SDK from looking for real ones on the machine. */
export function localClient(endpoint: string, opts: { maxAttempts?: number } = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: opts.maxAttempts ?? 3,
  });
}

async function ensureInstalled(dir: string): Promise<void> {
  if (existsSync(join(dir, 'DynamoDBLocal.jar'))) return;
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'install-dynamodb-local.sh');
  await run('bash', [script], { env: { ...process.env, DYNAMODB_LOCAL_DIR: dir }, timeout: 300_000 });
}

async function waitForReady(client: DynamoDBClient, proc: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`DynamoDB Local exited with ${proc.exitCode}: ${output()}`);
    try {
      await client.send(new ListTablesCommand({}));
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`DynamoDB Local did not answer within 30 s: ${String(lastError)}; output: ${output()}`);
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  await ensureInstalled(dir);
  const port = await freePort();
  const proc = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  try {
    await waitForReady(client, proc, () => log);
  } catch (e) {
    client.destroy();
    await stopProcess(proc);
    throw e;
  }
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await stopProcess(proc);
    },
  };
}

let tableSeq = 0;

/** A fresh state table with the product's own definition; a unique name per call keeps tests apart. */
export async function createStateTable(client: DynamoDBClient, prefix = 'hw-state'): Promise<string> {
  tableSeq += 1;
  const name = `${prefix}-${process.pid}-${tableSeq}`;
  await client.send(new CreateTableCommand(stateTableDefinition(name)));
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
  return name;
}

export async function dropStateTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: name }));
}
