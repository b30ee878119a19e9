// npm's `prepare` (after `npm ci`, `npm install -g .`): builds dist/ for the `highwater` bin unless it is already
// newer than every source file, so a second install does not spend half a minute in tsc for nothing. Plain
// JavaScript: it runs before anything is built.
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const stamp = join(root, 'dist', 'bin', 'highwater.js');
// A build is whole when both tsc's bin and the CLI's bundle are newer than the sources: a tsc run alone (which
// rewrites the bin) leaves the bundle older, so the next prepare builds again instead of keeping a stale bundle.
const bundle = join(root, 'dist', 'bin', 'cli', 'bundle', 'main.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

let built = 0;
try {
  built = Math.min(statSync(stamp).mtimeMs, statSync(bundle).mtimeMs);
} catch {
  // not built yet
}
const sources = Math.max(
  ...['bin', 'lib', 'lambdas'].map((d) => newest(join(root, d))),
  statSync(join(root, 'package.json')).mtimeMs,
  statSync(join(root, 'scripts', 'bundle-cli.mjs')).mtimeMs,
);
if (built > sources) {
  process.stderr.write('prepare: dist/ is up to date\n');
} else {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  // The CLI's bundle (scripts/bundle-cli.mjs) is built from tsc's output, after it.
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root, stdio: 'inherit' });
}
// npm's bin is the launcher (bin/highwater); the built entry stays a program too (#!/usr/bin/env node), for those
// who run it directly.
chmodSync(stamp, 0o755);
