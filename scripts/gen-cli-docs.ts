/** Writes docs/cli.md from the command definitions (`npm run docs:cli`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCliDocs } from '../bin/cli/docs.js';
import { createProgram } from '../bin/cli/program.js';

const target = join(import.meta.dirname, '..', 'docs', 'cli.md');
writeFileSync(target, renderCliDocs(createProgram()));
process.stdout.write(`wrote ${target}\n`);
