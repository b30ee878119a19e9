/**
 * Starts the private servers once for the whole test run and hands their addresses to the test files.
 * Test files then create their own databases (see test-db.ts), so files never see each other's tables.
 */
import type { TestProject } from 'vitest/node';
import { type MariaDbInstance, startMariaDb } from './mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mariadb: { host: string; port: number; user: string; password: string };
  }
}

let mariadb: MariaDbInstance | undefined;

export async function setup(project: TestProject): Promise<void> {
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
