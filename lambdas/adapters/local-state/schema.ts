/**
 * Opening the local state file: durability pragmas and the schema version ladder. Each entry of MIGRATIONS moves
 * the file from version i to i + 1 inside one transaction, so a later release can upgrade an old file step by step
 * and an older release refuses a file it does not understand instead of misreading it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ConfigError, describeError } from '../../runtime/errors.js';

export const SCHEMA_VERSION = 2;

const MIGRATIONS: readonly string[] = [
  // 0 → 1: the first schema. STRICT keeps watermark strings as text (no numeric affinity turning '007' into 7).
  `
  CREATE TABLE "watermarks" (
    "table_key" TEXT PRIMARY KEY,
    "ts" TEXT,
    "id" TEXT,
    "updated_at" TEXT NOT NULL,
    "last_run_id" TEXT,
    "manual" INTEGER NOT NULL CHECK ("manual" IN (0, 1))
  ) STRICT;
  CREATE TABLE "leases" (
    "table_key" TEXT PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expires_at" TEXT NOT NULL
  ) STRICT;
  CREATE TABLE "runs" (
    "run_id" TEXT PRIMARY KEY,
    "table_key" TEXT NOT NULL,
    "pipeline" TEXT NOT NULL,
    "table_name" TEXT NOT NULL,
    "strategy" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "from_ts" TEXT,
    "from_id" TEXT,
    "to_ts" TEXT,
    "to_id" TEXT,
    "advances_watermark" INTEGER NOT NULL CHECK ("advances_watermark" IN (0, 1)),
    "planned_chunks" INTEGER NOT NULL,
    "rows_extracted" INTEGER NOT NULL,
    "rows_loaded" INTEGER,
    "bytes" INTEGER NOT NULL,
    "started_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "finished_at" TEXT,
    "error" TEXT,
    "cleaned_at" TEXT
  ) STRICT;
  CREATE INDEX "runs_by_table" ON "runs" ("table_key", "run_id");
  CREATE TABLE "chunks" (
    "run_id" TEXT NOT NULL REFERENCES "runs" ("run_id") ON DELETE CASCADE,
    "idx" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "rows" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL,
    PRIMARY KEY ("run_id", "idx")
  ) STRICT;
  `,
  // 1 → 2: what Plan decided and saw (next watermark, snapshot time, columns, warnings), as one JSON document.
  `
  ALTER TABLE "runs" ADD COLUMN "plan_json" TEXT;
  `,
];

const versionRowSchema = z.object({ version: z.number().int().nonnegative() });

function currentVersion(db: Database.Database): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS "schema_version" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "version" INTEGER NOT NULL) STRICT',
  );
  const row = db.prepare('SELECT "version" FROM "schema_version" WHERE "id" = 1').get();
  return row === undefined ? 0 : versionRowSchema.parse(row).version;
}

function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const found = currentVersion(db);
    if (found > SCHEMA_VERSION) {
      throw new ConfigError(
        `state file ${path} has schema version ${found}, newer than this release understands (${SCHEMA_VERSION})`,
        { suggestion: 'Upgrade highwater, or point state at a different file.' },
      );
    }
    for (let v = found; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.prepare(
      'INSERT INTO "schema_version" ("id", "version") VALUES (1, ?) ON CONFLICT ("id") DO UPDATE SET "version" = excluded."version"',
    ).run(SCHEMA_VERSION);
  }).immediate();
}

/** Opens (creating if needed) the state file at `path` with crash-safe settings and the current schema. */
export function openStateDatabase(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    // A writer waits up to 5 s for another process's transaction instead of failing at once with SQLITE_BUSY.
    db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives power loss, not only a process crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot open state file ${path}: ${describeError(e)}`, {
      cause: e,
      suggestion: 'Check that the path is a writable highwater state file (SQLite).',
    });
  }
}
