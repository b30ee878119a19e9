/**
 * Starts the private servers once for the whole test run and hands their addresses to the test files.
 * Test files then create their own databases (see test-db.ts), so files never see each other's tables.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from './cli.js';
import { type MariaDbInstance, startMariaDb } from './mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mariadb: { host: string; port: number; user: string; password: string };
  }
}

let mariadb: MariaDbInstance | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The CLI tests spawn the built bin (cli.ts): build dist/ when a source is newer (a no-op after `npm ci`).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'prepare.mjs')], { cwd: ROOT, stdio: 'inherit' });
  mariadb = await startMariaDb();
  project.provide('mariadb', {
    host: mariadb.host,
    port: mariadb.port,
    user: mariadb.user,
    password: mariadb.password,
  });
}

export async function teardown(): Promise<void> {
  await mariadb?.stop();
}
