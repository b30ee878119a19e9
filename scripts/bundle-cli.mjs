// Bundles the CLI's commands (dist/bin/cli/main.js as tsc built it, with zod, commander and mysql2) into
// dist/bin/cli/bundle/, split into chunks so a lazy import stays lazy. A command's start then reads a few dozen files
// instead of ~450: 50–100 ms of every start (docs/decisions/0007, fifth round). bin/highwater.ts runs the bundle when
// it is there and the unbundled modules otherwise. Everything else stays outside, loaded from node_modules as
// before: native code (DuckDB, SQLite), what resolves files next to itself (parquet-wasm, chart.js), what loads at
// a first use through require() (yaml, cli-progress, string-width, the SQL grammars), and what only the AWS path
// or the Step Functions library's hook needs. The encode worker is built into the same folder, where the encoder's
// `new URL('./encode-worker.js', import.meta.url)` finds it, and beside it the part of Arrow it uses (arrow.cjs).
// Plain JavaScript: it runs right after tsc.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'bin', 'cli', 'bundle');
const BUNDLED = new Set(['zod', 'commander', 'mysql2']);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    main: join(root, 'dist', 'bin', 'cli', 'main.js'),
    'encode-worker': join(root, 'dist', 'lambdas', 'adapters', 'parquet', 'encode-worker.js'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external,
  chunkNames: 'chunk-[hash]',
  // Maps back to the TypeScript sources (through tsc's own maps), for the stacks `--debug` prints (bin/highwater.ts
  // turns them on) or any run under --enable-source-maps; a start without either never reads them.
  sourcemap: 'linked',
  // mysql2 is CommonJS: its require() of Node's own modules needs a require in an ES module.
  banner: {
    js: "import { createRequire as __hwCreateRequire } from 'node:module'; const require = __hwCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// The encode worker's part of Apache Arrow (lambdas/adapters/parquet/arrow-subset.ts), tree-shaken into one CommonJS
// file beside it: the worker requires it instead of the whole package (a third of the load time, in every sync).
await build({
  entryPoints: [join(root, 'dist', 'lambdas', 'adapters', 'parquet', 'arrow-subset.js')],
  outfile: join(outdir, 'arrow.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  // Arrow's ES module build, which esbuild can tree-shake (its CommonJS main cannot be).
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
