/**
 * History configuration (docs/history.md): `history`, `business_key`, `history_ignore_columns` and
 * `pipeline.dimension_history` resolve into TableConfig, and every refusal names file:line:column and the key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getPipeline, getTableConfig, loadConfig } from '../../../../lambdas/engine/config/index.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { posOf, project, removeProjects, TWO_CONNECTIONS, thrown } from './fixture.js';

afterAll(removeProjects);

const HEAD = 'pipeline:\n  source: shop\n  target: wh\ntables:\n';
const at = (text: string, needle: string) => `config/pipelines/p.yml:${posOf(text, needle)}`;

async function pipeline(text: string) {
  const cwd = project({ 'config/connections.yml': TWO_CONNECTIONS, 'config/pipelines/p.yml': text });
  return getPipeline(await loadConfig({ cwd, env: {} }), 'p');
}

async function error(text: string): Promise<string> {
  const e = await thrown(() => pipeline(text));
  expect(e).toBeInstanceOf(ConfigError);
  return e.message;
}

describe('history configuration', () => {
  it('history: scd2 with a business key and ignored columns', async () => {
    const text = `${HEAD}  shop.customers:\n    history: scd2\n    business_key: [id, region]\n    history_ignore_columns: last_seen_at, visits\n`;
    const t = getTableConfig(await pipeline(text), 'shop.customers');
    expect(t.history).toEqual({ ignoredColumns: ['last_seen_at', 'visits'] });
    expect(t.primaryKey).toEqual(['id', 'region']);
  });

  it('a plain table keeps no history; history: none is the same', async () => {
    const text = `${HEAD}  shop.a: {}\n  shop.b:\n    history: none\n`;
    const p = await pipeline(text);
    expect(getTableConfig(p, 'shop.a').history).toBeNull();
    expect(getTableConfig(p, 'shop.b').history).toBeNull();
  });

  it('pipeline.dimension_history: scd2 gives dimensions history, unless a table says history: none', async () => {
    const text =
      'pipeline:\n  source: shop\n  target: wh\n  dimension_history: scd2\ntables:\n' +
      '  shop.dim:\n    table_type: dimension\n  shop.fact:\n    table_type: fact\n  shop.flat:\n    table_type: dimension\n    history: none\n';
    const p = await pipeline(text);
    expect(getTableConfig(p, 'shop.dim').history).toEqual({ ignoredColumns: [] });
    expect(getTableConfig(p, 'shop.fact').history).toBeNull();
    expect(getTableConfig(p, 'shop.flat').history).toBeNull();
  });

  it('an unknown history kind', async () => {
    const text = `${HEAD}  shop.c:\n    history: scd3\n`;
    expect(await error(text)).toBe(
      `${at(text, 'scd3')}: tables.shop.c.history: unknown history "scd3"; expected scd2 or none`,
    );
  });

  it('an unknown pipeline.dimension_history', async () => {
    const text = 'pipeline:\n  source: shop\n  target: wh\n  dimension_history: yes\ntables:\n  shop.c: {}\n';
    expect(await error(text)).toBe(
      `${at(text, 'yes')}: pipeline.dimension_history: unknown history "yes"; expected scd2 or none`,
    );
  });

  it('full_sync append cannot keep history', async () => {
    const text = `${HEAD}  shop.c:\n    cdc_strategy: full_sync\n    full_sync_mode: append\n    history: scd2\n`;
    expect(await error(text)).toBe(
      `${at(text, 'scd2')}: tables.shop.c.history: history: scd2 cannot be kept with full_sync_mode: append (append keeps every read as new rows, with no key to compare); use full_sync_mode: replace`,
    );
  });

  it('custom_sql needs a business key', async () => {
    const text = `${HEAD}  shop.c:\n    cdc_strategy: custom_sql\n    custom_query: SELECT id, name FROM shop.c\n    history: scd2\n`;
    expect(await error(text)).toBe(
      `${at(text, 'scd2')}: tables.shop.c.history: history: scd2 with custom_sql needs business_key (a query has no primary key of its own to compare versions by)`,
    );
  });

  it('business_key and history_ignore_columns need history', async () => {
    const a = `${HEAD}  shop.c:\n    business_key: id\n`;
    expect(await error(a)).toBe(
      `${at(a, 'id\n')}: tables.shop.c.business_key: business_key is only used with history: scd2 (this table keeps no history)`,
    );
    const b = `${HEAD}  shop.c:\n    history_ignore_columns: [seen]\n`;
    expect(await error(b)).toBe(
      `${at(b, '[seen]')}: tables.shop.c.history_ignore_columns: history_ignore_columns is only used with history: scd2 (this table keeps no history)`,
    );
  });

  it('business_key differing from primary_key', async () => {
    const text = `${HEAD}  shop.c:\n    history: scd2\n    primary_key: id\n    business_key: email\n`;
    expect(await error(text)).toBe(
      `${at(text, 'email')}: tables.shop.c.business_key: business_key (email) differs from primary_key (id); the business key is the table's key, give one of them`,
    );
  });

  it('an ignored column of the business key', async () => {
    const text = `${HEAD}  shop.c:\n    history: scd2\n    business_key: [id, region]\n    history_ignore_columns: region\n`;
    expect(await error(text)).toBe(
      `${at(text, 'region\n')}: tables.shop.c.history_ignore_columns: region is a column of the business key; a key column cannot be ignored`,
    );
  });

  it('a column name that is no identifier', async () => {
    const text = `${HEAD}  shop.c:\n    history: scd2\n    history_ignore_columns: "a b"\n`;
    expect(await error(text)).toContain(
      `tables.shop.c.history_ignore_columns: column "a b" may only use letters, digits, _ and $ (1–64)`,
    );
  });
});
