/** The docs name real files: every repository path written in docs/*.md, the README and the adapters' READMEs exists. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT } from '../../support/cli.js';

function markdown(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  const readmes = readdirSync(join(ROOT, 'lambdas'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('README.md'))
    .map((f) => join('lambdas', f));
  return ['README.md', ...docs, ...readmes];
}

// A path that starts at one of the repository's top folders and ends in a file name with an extension.
const PATH_RE =
  /(?<![\w/.-])((?:lambdas|bin|lib|test|scripts|pipelines|schema|docs)\/[A-Za-z0-9_./-]+\.(?:ts|md|yml|json|sh|cjs))\b/g;

test('every repository path the documentation names exists', () => {
  const missing: string[] = [];
  for (const file of markdown()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(PATH_RE)) {
      if (!existsSync(join(ROOT, m[1]!))) missing.push(`${file}: ${m[1]}`);
    }
  }
  expect(missing).toEqual([]);
});
