/** A DuckDB file held open by another process: DuckDB's file lock, as a second highwater or a DuckDB shell takes it. */
import { type ChildProcess, spawn } from 'node:child_process';

/** Opens `path` in a separate Node process (which takes DuckDB's file lock) and waits until it holds it. */
export async function holdInChildProcess(path: string): Promise<ChildProcess> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(process.argv[1]);
    const conn = await db.connect();
    await conn.run('CREATE TABLE IF NOT EXISTS held AS SELECT 1 AS a');
    process.stdout.write('ready\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { conn.closeSync(); db.closeSync(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}: ${stderr}`)));
  });
  return child;
}

export async function release(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.stdin?.end();
  await exited;
}
