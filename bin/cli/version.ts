import { readFileSync } from 'node:fs';

/** Read once from package.json so `--version` and the build never disagree. */
function readVersion(): string {
  // bin/cli/ (sources), dist/bin/cli/ (tsc), dist/bin/cli/bundle/ (the CLI's bundle, scripts/bundle-cli.mjs).
  for (const rel of ['../../package.json', '../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'highwater' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
