/**
 * The one naming authority: state keys, staging keys, target table and column names. Everything that names a
 * thing in S3, DynamoDB, the local state store or the warehouse comes from here, so there is exactly one way to
 * spell each name and prefixes are matched exactly (they always end in `/`), never by substring.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Pipeline, connection and target names: what the YAML may use as a key. */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** MySQL schema and table names that we accept (anything else is refused rather than escaped into a key). */
const IDENT_RE = /^[A-Za-z0-9_$]{1,64}$/;

export interface TableRef {
  schema: string;
  table: string;
}

/** Parses `schema.table` as the CLI and YAML write it; refuses anything that is not two plain identifiers. */
export function parseTableName(name: string, where = 'table name'): TableRef {
  const parts = name.split('.');
  if (parts.length !== 2 || !parts.every((p) => IDENT_RE.test(p))) {
    throw new ConfigError(
      `${where} ${JSON.stringify(name)} is not schema.table made of letters, digits, _ and $ (at most 64 each)`,
      { suggestion: 'Write the table as schema.table, for example shop.orders.' },
    );
  }
  return { schema: parts[0]!, table: parts[1]! };
}

/**
 * A table as users write it: `schema.table`, or a bare `table` in the source connection's database (the migration
 * guide's pipelines list tables that way). Always returns `schema.table`; refuses what is neither.
 */
export function qualifyTableName(name: string, sourceDatabase: string, where = 'table'): string {
  if (name.includes('.')) return name;
  if (!IDENT_RE.test(name)) {
    throw new ConfigError(
      `${where} ${JSON.stringify(name)} is not a table name: letters, digits, _ and $ (at most 64), optionally as schema.table`,
      { suggestion: 'Write the table as schema.table, for example shop.orders.' },
    );
  }
  if (sourceDatabase === '') {
    throw new ConfigError(
      `${where} ${JSON.stringify(name)} has no schema, and the source connection names no database`,
      {
        suggestion:
          'Write the table as schema.table, or set the database (MYSQL_DATABASE, or database: in connections.yml).',
      },
    );
  }
  return `${sourceDatabase}.${name}`;
}

export function assertName(kind: string, name: string): string {
  if (!NAME_RE.test(name)) {
    throw new ConfigError(`${kind} name ${JSON.stringify(name)} may only use letters, digits, _ and - (1–64)`);
  }
  return name;
}

// ── State keys ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface TableKeyParts {
  pipeline: string;
  source: string;
  table: string; // schema.table
  target: string;
}

/** The parts of one table of a pipeline, whose source and target are its named connections. */
export function pipelineTableParts(
  p: { name: string; source: { name: string }; target: { name: string } },
  table: string,
): TableKeyParts {
  return { pipeline: p.name, source: p.source.name, table, target: p.target.name };
}

/** The key of a (pipeline, source table, target) in the state store: watermark, lease and ledger partition. */
export function tableKey(parts: TableKeyParts): string {
  assertName('pipeline', parts.pipeline);
  assertName('source', parts.source);
  assertName('target', parts.target);
  parseTableName(parts.table);
  return `${parts.pipeline}/${parts.source}/${parts.table}/${parts.target}`;
}

export function parseTableKey(key: string): TableKeyParts {
  const parts = key.split('/');
  if (parts.length !== 4) throw new ConfigError(`not a table key: ${JSON.stringify(key)}`);
  const [pipeline, source, table, target] = parts as [string, string, string, string];
  return { pipeline, source, table, target };
}

// ── Run ids ────────────────────────────────────────────────────────────────────────────────────────────────────

/** A run id sorts by start time: `20261125T131603123Z-1a2b3c4d`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d{3})Z$/, '$1Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

const RUN_ID_RE = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;
export function isRunId(s: string): boolean {
  return RUN_ID_RE.test(s);
}

// ── Staging keys ───────────────────────────────────────────────────────────────────────────────────────────────

function cleanPrefix(prefix: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p === '' ? '' : `${p}/`;
}

/** Every staged object of one table lives under this prefix (it ends with `/`). */
export function tableStagingPrefix(rootPrefix: string, parts: TableKeyParts): string {
  tableKey(parts); // validates every part
  return `${cleanPrefix(rootPrefix)}${parts.pipeline}/${parts.target}/${parts.source}/${parts.table}/`;
}

export function runStagingPrefix(rootPrefix: string, parts: TableKeyParts, runId: string): string {
  if (!isRunId(runId)) throw new ConfigError(`not a run id: ${JSON.stringify(runId)}`);
  return `${tableStagingPrefix(rootPrefix, parts)}run=${runId}/`;
}

/**
 * The key of one chunk's Parquet file. Deterministic per (run, chunk, part): a retried chunk overwrites, never
 * duplicates. Part 0 (a chunk read in one step) is `chunk-00003.parquet`; a continuation part (the rest of a chunk
 * whose extract stopped near its deadline) is `chunk-00003-p0001.parquet`.
 */
export function chunkKey(
  rootPrefix: string,
  parts: TableKeyParts,
  runId: string,
  chunkIndex: number,
  part = 0,
): string {
  const suffix = part === 0 ? '' : `-p${String(part).padStart(4, '0')}`;
  return `${runStagingPrefix(rootPrefix, parts, runId)}chunk-${String(chunkIndex).padStart(5, '0')}${suffix}.parquet`;
}

/** The COPY manifest of one run's files. */
/**
 * The manifest a load hands Redshift COPY; `group` numbers the further manifests of a load whose files were written
 * with different columns (LoadRequest.fileGroups): `manifest-1.json`, ….
 */
export function manifestKey(rootPrefix: string, parts: TableKeyParts, runId: string, group = 0): string {
  return `${runStagingPrefix(rootPrefix, parts, runId)}${group === 0 ? 'manifest.json' : `manifest-${group}.json`}`;
}

/** The keys a run deletes in the warehouse (delete detection, a repair), written by Plan, read by Load. */
export function deletesKey(rootPrefix: string, parts: TableKeyParts, runId: string): string {
  return `${runStagingPrefix(rootPrefix, parts, runId)}deletes.json`;
}

/** A large plan written to staging for a Distributed Map to read. */
export function planKey(rootPrefix: string, parts: TableKeyParts, runId: string): string {
  return `${runStagingPrefix(rootPrefix, parts, runId)}plan.json`;
}

export interface ParsedStagingKey {
  prefix: string;
  parts: TableKeyParts;
  runId: string;
  file: string;
  chunkIndex: number | null;
}

/** Inverse of chunkKey/manifestKey: reads a staged key back into its parts (undefined if it is not ours). */
export function parseStagingKey(rootPrefix: string, key: string): ParsedStagingKey | undefined {
  const root = cleanPrefix(rootPrefix);
  if (!key.startsWith(root)) return undefined;
  const rest = key.slice(root.length).split('/');
  if (rest.length !== 6) return undefined;
  const [pipeline, target, source, table, runPart, file] = rest as [string, string, string, string, string, string];
  if (!runPart.startsWith('run=') || !isRunId(runPart.slice(4))) return undefined;
  const m = /^chunk-(\d{5})(?:-p\d{4,})?\.parquet$/.exec(file);
  return {
    prefix: root,
    parts: { pipeline, source, table, target },
    runId: runPart.slice(4),
    file,
    chunkIndex: m ? Number(m[1]) : null,
  };
}

// ── Warehouse names ────────────────────────────────────────────────────────────────────────────────────────────

/** Prefix given to a column or table name that starts with a digit (stable: the same name always maps the same way). */
export const DIGIT_PREFIX = 'col_';

/** The warehouse name for a source column or table: lower case, digit-leading names prefixed, other characters kept. */
export function targetIdentifier(name: string): string {
  const lower = name.toLowerCase();
  return /^[0-9]/.test(lower) ? `${DIGIT_PREFIX}${lower}` : lower;
}

/** Maps source column names to target names; two source columns that would collide are an error, not a silent merge. */
export function targetColumnNames(table: string, sourceNames: readonly string[]): string[] {
  const seen = new Map<string, string>();
  return sourceNames.map((n) => {
    const t = targetIdentifier(n);
    const other = seen.get(t);
    if (other !== undefined) {
      throw new ConfigError(`${table}: columns ${JSON.stringify(other)} and ${JSON.stringify(n)} both map to ${t}`);
    }
    seen.set(t, n);
    return t;
  });
}

/** The staging table a load uses inside its transaction. */
export function stagingTableName(target: string, runId: string): string {
  return `${target}__hw_stage_${runId
    .replace(/[^0-9a-z]/gi, '')
    .slice(-12)
    .toLowerCase()}`;
}

/** Execution name for Step Functions: pipeline, table and time, so duplicate runs are visible (≤ 80 chars). */
export function executionName(pipeline: string, tables: readonly string[], now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').slice(0, 15);
  const what = tables.length === 1 ? tables[0]!.replace(/\./g, '-') : `${tables.length}-tables`;
  return `${pipeline}-${what}-${stamp}-${randomBytes(2).toString('hex')}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}
