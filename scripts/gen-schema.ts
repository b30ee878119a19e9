/**
 * Writes the JSON Schemas of connections.yml and pipelines/NAME.yml (generated from the zod schemas) to schema/.
 * test/unit/config-schema-files.test.ts fails when the committed files differ from what this generates.
 * Run: npx tsx scripts/gen-schema.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonSchemaFiles } from '../lambdas/engine/config/setup.js';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, 'schema');
mkdirSync(dir, { recursive: true });
const written: string[] = [];
for (const [name, text] of Object.entries(jsonSchemaFiles())) {
  writeFileSync(join(dir, name), text);
  written.push(join(dir, name));
}
// Keep the files as the repository's formatter writes them, so `biome check .` stays clean.
execFileSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', ...written], { stdio: 'inherit' });
for (const w of written) process.stdout.write(`wrote ${w}\n`);
