/**
 * `highwater connections discover NAME [--write PIPELINE]`: a source's tables with their row estimates, primary
 * keys and a suggested strategy (lambdas/engine/config/discover-tables.ts); --write adds the tables a pipeline
 * file does not list yet, keeping what it has (comments included), and checks the file loads afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../../../../lambdas/domain/config.js';
import {
  type DiscoveredTable,
  suggestionYaml,
  suggestStrategy,
} from '../../../../lambdas/engine/config/discover-tables.js';
import { getPipeline, loadConfig } from '../../../../lambdas/engine/config/index.js';
import { assertName } from '../../../../lambdas/engine/naming.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import type { Runtime } from '../../../../lambdas/local/runtime.js';

const LIST_SQL = `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_ROWS AS n FROM information_schema.TABLES
  WHERE TABLE_TYPE = 'BASE TABLE' AND (? = '' AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema') OR TABLE_SCHEMA = ?)
  ORDER BY TABLE_SCHEMA, TABLE_NAME`;

/** Any target name, for the ad-hoc pipeline that opens the source (discovery never touches the target). */
function anyTarget(cfg: LoadedConfig): string {
  const names = Object.keys(cfg.targets);
  if (names.length === 0) throw new ConfigError('no target connection is configured');
  return names.includes('default') ? 'default' : names[0]!;
}

export async function discoverTables(rt: Runtime, cfg: LoadedConfig, source: string): Promise<DiscoveredTable[]> {
  if (!cfg.sources[source]) {
    throw new ConfigError(
      `unknown source connection ${JSON.stringify(source)}; sources: ${Object.keys(cfg.sources).join(', ')}`,
    );
  }
  const p = rt.pipeline(`adhoc_${source}`, { source, target: anyTarget(cfg) });
  const reader = await rt.openSource(p);
  try {
    const db = p.source.database;
    const rows = await reader.query<{ s: unknown; t: unknown; n: unknown }>(LIST_SQL, [db, db]);
    const out: DiscoveredTable[] = [];
    for (const r of rows) {
      const schema = await reader.describeTable(String(r.s), String(r.t));
      out.push({
        name: `${r.s}.${r.t}`,
        rowsEstimate: r.n === null || r.n === undefined ? null : Number(r.n),
        primaryKey: schema.primaryKey,
        suggestion: suggestStrategy(schema),
      });
    }
    return out;
  } finally {
    await reader.close();
  }
}

/**
 * Adds the tables `pipeline`'s file does not list (by name, case-insensitively) under `tables:`; a new file names
 * the source and a target. Returns the names added. The file is checked by loading the configuration again; if it
 * does not load, the old text is put back and the error is thrown.
 */
export async function writeDiscovered(
  cfg: LoadedConfig,
  pipeline: string,
  source: string,
  tables: readonly DiscoveredTable[],
  cwd: string,
): Promise<{ file: string; added: string[] }> {
  assertName('pipeline', pipeline);
  // Imported here, not at the top: every command's start loads this module (commander registers them all).
  const { Document, isMap, parseDocument } = await import('yaml');
  const file = join(cfg.configDir, 'pipelines', `${pipeline}.yml`);
  const before = existsSync(file) ? await readFile(file, 'utf8') : undefined;
  const doc =
    before === undefined
      ? new Document({ pipeline: { source, target: anyTarget(cfg) }, tables: {} })
      : parseDocument(before);
  if (before !== undefined && doc.errors.length > 0) {
    throw new ConfigError(`${file}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix it before --write`);
  }
  if (!isMap(doc.get('tables', true))) doc.set('tables', doc.createNode({}));
  const listed = doc.get('tables', true);
  const have = new Set(
    isMap(listed)
      ? listed.items.map((pair) => String((pair.key as { value?: unknown })?.value ?? pair.key).toLowerCase())
      : [],
  );
  const added: string[] = [];
  for (const t of tables) {
    const bare = t.name.split('.')[1]!.toLowerCase();
    if (have.has(t.name.toLowerCase()) || have.has(bare)) continue;
    doc.setIn(['tables', t.name], doc.createNode(suggestionYaml(t.suggestion)));
    added.push(t.name);
  }
  if (added.length === 0) return { file, added };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, doc.toString({ lineWidth: 0 }));
  try {
    const reloaded = await loadConfig({ cwd, configDir: cfg.configDir, home: cfg.home, env: process.env });
    getPipeline(reloaded, pipeline);
  } catch (e) {
    if (before === undefined) await rm(file, { force: true });
    else await writeFile(file, before);
    throw e;
  }
  return { file, added };
}
