/**
 * Primary keys of the state table's items. Table keys and run ids are embedded in sort keys after a `#`
 * separator, so `%` and `#` inside them are percent-escaped: two different ids can never produce one key, and
 * one id's key is never a prefix-match for another's chunks.
 */
export const SCHEMA_VERSION = 1;
/** gsi1pk of every watermark item: the index partition that listWatermarks queries. */
export const WATERMARK_INDEX_PK = 'WATERMARK';
/** gsi1pk of every lease item: the index partition that listLeases queries. */
export const LEASE_INDEX_PK = 'LEASE';

/** An item as the DocumentClient reads and writes it. */
export type Item = Record<string, unknown>;

export interface ItemKey {
  pk: string;
  sk: string;
}

export function escapeKeyPart(s: string): string {
  return s.replace(/%/g, '%25').replace(/#/g, '%23');
}

export function tablePk(tableKey: string): string {
  return `TABLE#${escapeKeyPart(tableKey)}`;
}

export function leaseKey(tableKey: string): ItemKey {
  return { pk: tablePk(tableKey), sk: 'LEASE' };
}

export function watermarkKey(tableKey: string): ItemKey {
  return { pk: tablePk(tableKey), sk: 'WATERMARK' };
}

export const RUN_SK_PREFIX = 'RUN#';
export const CHUNK_SK_PREFIX = 'CHUNK#';

export function runKey(tableKey: string, runId: string): ItemKey {
  return { pk: tablePk(tableKey), sk: `${RUN_SK_PREFIX}${escapeKeyPart(runId)}` };
}

/** All chunk items of one run start with this sort-key prefix (it ends in `#`, so it never matches another run). */
export function chunkPrefix(runId: string): string {
  return `${CHUNK_SK_PREFIX}${escapeKeyPart(runId)}#`;
}

/**
 * Ten digits keep chunks in index order within the run's item collection; a continuation part (part > 0) adds
 * `#p` and four digits, which sorts right after its chunk's part 0 and before the next chunk.
 */
export function chunkKey(tableKey: string, runId: string, index: number, part = 0): ItemKey {
  const suffix = part === 0 ? '' : `#p${String(part).padStart(4, '0')}`;
  return { pk: tablePk(tableKey), sk: `${chunkPrefix(runId)}${String(index).padStart(10, '0')}${suffix}` };
}

/** The run reference: getRun(runId) has no table key, so this item says which table partition holds the run. */
export function runRefKey(runId: string): ItemKey {
  return { pk: `RUNREF#${escapeKeyPart(runId)}`, sk: 'RUNREF' };
}

/** Byte order of UTF-8, as DynamoDB and SQLite sort keys. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export const VERIFICATION_SK_PREFIX = 'VERIFY#';

/** ISO-8601 UTC instants of one width sort as time, so a descending query reads the newest verification first. */
export function verificationKey(tableKey: string, at: string): ItemKey {
  return { pk: tablePk(tableKey), sk: `${VERIFICATION_SK_PREFIX}${at}` };
}

/** The load claim of one table (StateStore.claimLoad): who may load it now, and the statements loads left. */
export function loadClaimKey(tableKey: string): ItemKey {
  return { pk: tablePk(tableKey), sk: 'LOAD' };
}

/** A bastion's remembered host key (trust on first use), keyed by `host:port`. */
export function hostKeyKey(bastion: string): ItemKey {
  return { pk: `HOSTKEY#${escapeKeyPart(bastion)}`, sk: 'HOSTKEY' };
}
