/**
 * The README's "Using it" commands, exactly as written there — `npx highwater …`, run by npx from the built bin as a
 * user's shell would — one after another in a fresh directory of the checkout against a private MariaDB holding
 * `shop.orders`: each must exit 0. (The README's MYSQL_HOST/USER/PASSWORD point at this machine's server; here they
 * point at the test's own, with the README's database name.) The directory starts with an empty `.highwater/`, so
 * the project found from it is that directory, whatever the checkout holds above it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { ROOT, spawnAsync } from '../support/cli.js';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The `sh` block under "## Using it": its `export` line and its `npx highwater …` commands, comments dropped. */
function usingIt(): { exports: Record<string, string>; commands: string[][] } {
  const section = README.split('## Using it')[1] ?? '';
  const block = section.split('```sh')[1]?.split('```')[0] ?? '';
  const lines = block.split('\n').map((l) => l.trim());
  const exportLine = lines.find((l) => l.startsWith('export ')) ?? '';
  const exports = Object.fromEntries(
    exportLine
      .slice('export '.length)
      .split(/\s+/)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const commands = lines.filter((l) => l.startsWith('npx highwater ')).map((l) => words(withoutComment(l)));
  return { exports, commands };
}

function withoutComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "'") quoted = !quoted;
    if (!quoted && line[i] === '#' && line[i - 1] === ' ') return line.slice(0, i).trim();
  }
  return line;
}

/** Splits a shell command line into words (single quotes only, as the README uses). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

let dir = '';
let admin: mysql.Connection;
const { exports, commands } = usingIt();
const database = exports.MYSQL_DATABASE ?? 'shop';

beforeAll(async () => {
  const server = inject('mariadb');
  admin = await mysql.createConnection({ ...server, multipleStatements: true });
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\`; CREATE DATABASE \`${database}\``);
  await admin.query(`CREATE TABLE \`${database}\`.orders (
    id INT PRIMARY KEY AUTO_INCREMENT, amount DECIMAL(10,2) NOT NULL, updated_at DATETIME NOT NULL)`);
  const rows = Array.from({ length: 50 }, (_, i) => [`${i}.50`, `2024-0${(i % 9) + 1}-01 10:00:00`]);
  await admin.query(`INSERT INTO \`${database}\`.orders (amount, updated_at) VALUES ?`, [rows]);
  // `npx highwater` runs dist/bin/highwater.js: build it if the sources are newer (a no-op after `npm ci`).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'prepare.mjs')], { cwd: ROOT, stdio: 'ignore' });
  dir = mkdtempSync(join(ROOT, '.test-readme-'));
  mkdirSync(join(dir, '.highwater'));
});

afterAll(async () => {
  await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin?.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the README lists the commands this test runs', () => {
  expect(exports.MYSQL_DATABASE).toBe('shop');
  expect(commands.map((c) => c[2])).toContain('verify');
  expect(commands.length).toBeGreaterThanOrEqual(10);
});

test("every command of the README's 'Using it' works exactly as written (exit 0), in order", async () => {
  const server = inject('mariadb');
  const env = {
    ...exports,
    MYSQL_HOST: server.host,
    MYSQL_PORT: String(server.port),
    MYSQL_USER: server.user,
    MYSQL_PASSWORD: server.password,
  };
  for (const [command, ...args] of commands) {
    const r = await spawnAsync(command!, args, { cwd: dir, env });
    expect(r.code, `${command} ${args.join(' ')}\n${r.out}\n${r.err}`).toBe(0);
  }
});
