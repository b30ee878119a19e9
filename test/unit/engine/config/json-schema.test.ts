/** The committed JSON Schemas (schema/*.json) are exactly what scripts/gen-schema.ts generates: they cannot drift. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { configJsonSchema } from '../../../../lambdas/engine/config/index.js';
import {
  CONNECTIONS_SCHEMA_FILE,
  jsonSchemaFiles,
  PIPELINE_SCHEMA_FILE,
} from '../../../../lambdas/engine/config/setup.js';

const SCHEMA_DIR = join(import.meta.dirname, '../../../../schema');
const committed = (name: string): unknown => JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8'));

test('schema/connections.schema.json and schema/pipeline.schema.json equal the generated schemas', () => {
  const hint = 'regenerate with: npx tsx scripts/gen-schema.ts';
  expect(committed(CONNECTIONS_SCHEMA_FILE), hint).toEqual(configJsonSchema().connections);
  expect(committed(PIPELINE_SCHEMA_FILE), hint).toEqual(configJsonSchema().pipeline);
});

test('the files config setup writes are the same schemas', () => {
  const files = jsonSchemaFiles();
  expect(Object.keys(files).sort()).toEqual([CONNECTIONS_SCHEMA_FILE, PIPELINE_SCHEMA_FILE]);
  expect(JSON.parse(files[CONNECTIONS_SCHEMA_FILE]!)).toEqual(committed(CONNECTIONS_SCHEMA_FILE));
  expect(JSON.parse(files[PIPELINE_SCHEMA_FILE]!)).toEqual(committed(PIPELINE_SCHEMA_FILE));
});
