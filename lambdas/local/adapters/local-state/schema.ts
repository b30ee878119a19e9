/**
 * Opening the local state file: durability pragmas and the schema version ladder. Each entry of MIGRATIONS moves
 * the file from version i to i + 1 inside one transaction, so a later release can upgrade an old file step by step
 * and an older release refuses a file it does not understand instead of misreading it.
 *
 * Only a missing file is a fresh start. The file holds every watermark, so one that is empty, unreadable, not
 * SQLite or not a Highwater state file is refused by name instead of being taken for a new one (which would restart
 * every table from the beginning). A new file is built under a temporary name and linked into place complete, so
 * no process ever sees a half-created (empty) state file at `path`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ConfigError, describeError } from '../../../errors.js';

export const SCHEMA_VERSION = 7;

/** Exported for tests that build a file of an older version. */
export const MIGRATIONS: readonly string[] = [
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
  // 1 → 2: who holds a lease (host, pid, process start time, pid space); null for leases taken before.
  `
  ALTER TABLE "leases" ADD COLUMN "owner_host" TEXT;
  ALTER TABLE "leases" ADD COLUMN "owner_pid" INTEGER;
  ALTER TABLE "leases" ADD COLUMN "owner_start_time" TEXT;
  ALTER TABLE "leases" ADD COLUMN "owner_pid_space" TEXT;
  `,
  // 2 → 3: what Plan decided and saw (next watermark, snapshot time, columns, warnings), as one JSON document.
  `
  ALTER TABLE "runs" ADD COLUMN "plan_json" TEXT;
  `,
  // 3 → 4: the ledger's verifications (what `verify` and the Verify step found), one JSON document each.
  `
  CREATE TABLE "verifications" (
    "table_key" TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "record_json" TEXT NOT NULL,
    PRIMARY KEY ("table_key", "at")
  ) STRICT;
  `,
  // 4 → 5: when each step ran (`highwater runs`): Plan, Load and Commit per run as one JSON document, and each
  // chunk's extract. Null on runs and chunks recorded before.
  `
  ALTER TABLE "runs" ADD COLUMN "steps_json" TEXT;
  ALTER TABLE "chunks" ADD COLUMN "started_at" TEXT;
  ALTER TABLE "chunks" ADD COLUMN "finished_at" TEXT;
  `,
  // 5 → 6: who holds each table's load and the warehouse statements it left (one JSON document per table), the
  // values each chunk truncated (oversize: truncate), and the bastion host keys first seen by local runs.
  `
  CREATE TABLE "load_claims" (
    "table_key" TEXT PRIMARY KEY,
    "claim_json" TEXT NOT NULL
  ) STRICT;
  ALTER TABLE "chunks" ADD COLUMN "truncated_json" TEXT;
  CREATE TABLE "host_keys" (
    "bastion" TEXT PRIMARY KEY,
    "fingerprint" TEXT NOT NULL,
    "first_seen_at" TEXT NOT NULL
  ) STRICT;
  `,
  // 6 → 7: a chunk may be read in parts (an extract that stopped near its deadline hands the rest on): a part
  // number in the key, and the keys each part starts after and stopped at (JSON arrays; null for a whole chunk).
  `
  CREATE TABLE "chunks_v7" (
    "run_id" TEXT NOT NULL REFERENCES "runs" ("run_id") ON DELETE CASCADE,
    "idx" INTEGER NOT NULL,
    "part" INTEGER NOT NULL DEFAULT 0,
    "key" TEXT NOT NULL,
    "rows" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL,
    "after_json" TEXT,
    "through_json" TEXT,
    "started_at" TEXT,
    "finished_at" TEXT,
    "truncated_json" TEXT,
    PRIMARY KEY ("run_id", "idx", "part")
  ) STRICT;
  INSERT INTO "chunks_v7" ("run_id", "idx", "part", "key", "rows", "bytes", "started_at", "finished_at", "truncated_json")
    SELECT "run_id", "idx", 0, "key", "rows", "bytes", "started_at", "finished_at", "truncated_json" FROM "chunks";
  DROP TABLE "chunks";
  ALTER TABLE "chunks_v7" RENAME TO "chunks";
  `,
];

const versionRowSchema = z.object({ version: z.number().int().nonnegative() });
const tableNamesSchema = z.array(z.string());

/**
 * The error for a state file that exists but cannot be used; `what` says what is wrong with it. The message says
 * what to do too, since a sync report shows only the message.
 */
function unusable(path: string, what: string, cause?: unknown): ConfigError {
  return new ConfigError(
    `state file ${path} ${what}; it holds the watermarks, leases and run history, so it is not taken for a fresh ` +
      `start: restore it from a backup, or point --home (HIGHWATER_HOME) or the pipeline's state.path elsewhere`,
    {
      cause,
      suggestion: 'To start afresh on purpose, move the file away: every table then syncs again from the beginning.',
    },
  );
}

function currentVersion(db: Database.Database, path: string): number {
  const tables = tableNamesSchema.parse(
    db
      .prepare('SELECT "name" FROM "sqlite_master" WHERE "type" = \'table\' AND "name" NOT LIKE \'sqlite_%\'')
      .pluck()
      .all(),
  );
  if (!tables.includes('schema_version')) {
    // A database with no tables has never held state; one with other tables is someone else's file.
    if (tables.length > 0) {
      throw unusable(path, `is an SQLite database but not a Highwater state file (its tables: ${tables.join(', ')})`);
    }
    db.exec(
      'CREATE TABLE "schema_version" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "version" INTEGER NOT NULL) STRICT',
    );
  }
  const row = db.prepare('SELECT "version" FROM "schema_version" WHERE "id" = 1').get();
  if (row === undefined && tables.length > 0) throw unusable(path, 'has no schema version');
  return row === undefined ? 0 : versionRowSchema.parse(row).version;
}

function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const found = currentVersion(db, path);
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

/** Opens an SQLite file with crash-safe settings and brings its schema to SCHEMA_VERSION. */
function openAndMigrate(path: string, create = false): Database.Database {
  // A writer waits up to 5 s for another process's transaction instead of failing at once with SQLITE_BUSY.
  const db = new Database(path, { timeout: 5000, fileMustExist: !create });
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives power loss, not only a process crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** A new state file: built under a temporary name, then linked into place complete (never replacing a file). */
function createStateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.new`;
  try {
    // Closing checkpoints the WAL into the file and removes the -wal and -shm files.
    openAndMigrate(tmp, true).close();
    try {
      linkSync(tmp, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Another process created it first: use theirs.
      if (code === 'EEXIST') return;
      // A file system without hard links: rename, unless a file appeared meanwhile.
      if (existsSync(path)) return;
      renameSync(tmp, path);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Whether a state file exists at `path`; anything there that is not a non-empty readable file is refused. */
function stateFileExists(path: string): boolean {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw unusable(path, 'is not a file');
    size = st.size;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file, so nothing is there either (creating it fails, naming the path).
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw unusable(path, `cannot be read (${describeError(e)})`, e);
  }
  if (size === 0) throw unusable(path, 'is empty (0 bytes)');
  return true;
}

/**
 * Opens the state file at `path` with crash-safe settings and the current schema; creates it (and its directory)
 * only when nothing is there yet.
 */
export function openStateDatabase(path: string): Database.Database {
  if (!stateFileExists(path)) {
    try {
      createStateFile(path);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`cannot create state file ${path}: ${describeError(e)}`, {
        cause: e,
        suggestion: 'Check that its directory can be created and written, or point --home elsewhere.',
      });
    }
  }
  try {
    return openAndMigrate(path);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw unusable(path, `cannot be opened: ${describeError(e)}`, e);
  }
}
