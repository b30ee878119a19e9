/**
 * The local store's load claims and remembered host keys (StateStore.claimLoad, recordLoadStatement, releaseLoad,
 * getLoadClaim, rememberHostKey): one row per table / bastion, each read-modify-write inside BEGIN IMMEDIATE so two
 * processes sharing the file can never both take a claim. The rules are ports/load-claims.ts, shared with DynamoDB.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { HostKeyRecord, LoadClaim, LoadStatement } from '../../../domain/records.js';
import {
  abandonClaim,
  appendStatement,
  hostKeyFromStore,
  loadClaimFromStore,
  newHostKeyRecord,
  releaseClaim,
  takeClaim,
} from '../../../ports/load-claims.js';

const claimRowSchema = z.object({ claim_json: z.string() });
const hostKeyRowSchema = z.object({ bastion: z.string(), fingerprint: z.string(), first_seen_at: z.string() });

export interface ClaimStore {
  claimLoad(tableKey: string, claim: { runId: string; attempt: string; until: string }): Promise<LoadClaim>;
  abandonLoadClaim(tableKey: string, runId: string): Promise<void>;
  recordLoadStatement(tableKey: string, attempt: string, statement: LoadStatement): Promise<void>;
  releaseLoad(tableKey: string, attempt: string): Promise<void>;
  getLoadClaim(tableKey: string): Promise<LoadClaim | undefined>;
  rememberHostKey(bastion: string, fingerprint: string): Promise<HostKeyRecord>;
}

export function localClaimStore(
  db: Database.Database,
  path: string,
  now: () => Date,
  atomically: <T>(fn: () => T) => T,
): ClaimStore {
  const q = {
    getClaim: db.prepare('SELECT "claim_json" FROM "load_claims" WHERE "table_key" = ?'),
    putClaim: db.prepare(
      `INSERT INTO "load_claims" ("table_key", "claim_json") VALUES (?, ?)
       ON CONFLICT ("table_key") DO UPDATE SET "claim_json" = excluded."claim_json"`,
    ),
    getHostKey: db.prepare('SELECT * FROM "host_keys" WHERE "bastion" = ?'),
    insertHostKey: db.prepare(
      'INSERT INTO "host_keys" ("bastion", "fingerprint", "first_seen_at") VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
  };
  const where = `state file ${path}`;
  const read = (tableKey: string): LoadClaim | undefined => {
    const row = q.getClaim.get(tableKey);
    if (row === undefined) return undefined;
    const text = claimRowSchema.parse(row).claim_json;
    return loadClaimFromStore(where, JSON.parse(text));
  };
  const write = (claim: LoadClaim): void => {
    q.putClaim.run(claim.tableKey, JSON.stringify(claim));
  };
  return {
    async claimLoad(tableKey, request) {
      return atomically(() => {
        const next = takeClaim(tableKey, read(tableKey), request, now());
        write(next);
        return next;
      });
    },
    async recordLoadStatement(tableKey, attempt, statement) {
      atomically(() => write(appendStatement(tableKey, read(tableKey), attempt, statement)));
    },
    async releaseLoad(tableKey, attempt) {
      atomically(() => {
        const next = releaseClaim(read(tableKey), attempt);
        if (next) write(next);
      });
    },
    async abandonLoadClaim(tableKey, runId) {
      atomically(() => {
        const next = abandonClaim(read(tableKey), runId, now());
        if (next) write(next);
      });
    },
    async getLoadClaim(tableKey) {
      return read(tableKey);
    },
    async rememberHostKey(bastion, fingerprint) {
      const fresh = newHostKeyRecord(bastion, fingerprint, now());
      return atomically(() => {
        q.insertHostKey.run(fresh.bastion, fresh.fingerprint, fresh.firstSeenAt);
        const row = hostKeyRowSchema.parse(q.getHostKey.get(bastion));
        return hostKeyFromStore(where, {
          bastion: row.bastion,
          fingerprint: row.fingerprint,
          firstSeenAt: row.first_seen_at,
        });
      });
    },
  };
}
