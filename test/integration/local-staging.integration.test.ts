import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StagingError } from '../../lambdas/errors.js';
import { createLocalStaging } from '../../lambdas/local/adapters/local-staging/index.js';
import type { Staging } from '../../lambdas/ports/index.js';
import { describeStagingContract, listAll, writeObject } from '../contract/staging.contract.js';

describeStagingContract('local directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-staging-'));
  return {
    staging: createLocalStaging({ root: join(dir, 'staging') }),
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('local staging: files on disk', () => {
  let dir: string;
  let root: string;
  let staging: Staging;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hw-staging-local-'));
    root = join(dir, 'root');
    staging = createLocalStaging({ root });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = (s: Writable, data: string) =>
    new Promise<void>((resolve, reject) => s.write(Buffer.from(data), (e) => (e ? reject(e) : resolve())));

  test('a write goes to a temp file beside the target, renamed into place on finish', async () => {
    const key = 'p/t/run=1/chunk-00000.parquet';
    const target = join(root, 'p', 't', 'run=1', 'chunk-00000.parquet');
    expect(staging.locate(key)).toBe(target);
    const stream = staging.createWriteStream(key);
    await write(stream, 'partial');
    const during = await readdir(dirname(target));
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.hw-tmp-[0-9a-f]{12}-chunk-00000\.parquet$/);
    expect(await listAll(staging, '')).toEqual([]);
    stream.end();
    expect(await staging.finished(stream)).toEqual({ bytes: 7 });
    expect(await readdir(dirname(target))).toEqual(['chunk-00000.parquet']);
    expect(await readFile(target, 'utf8')).toBe('partial');
  });

  test('a destroyed stream removes its temp file before finished() rejects', async () => {
    const stream = staging.createWriteStream('p/x.bin');
    await write(stream, 'abc');
    stream.destroy(new Error('disk on fire'));
    const err = await staging.finished(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).message).toContain('disk on fire');
    expect((err as StagingError).message).toContain(`p/x.bin under ${root}`);
    expect(await readdir(join(root, 'p'))).toEqual([]);
  });

  test('a writer killed mid-write leaves no visible object; its leftover temp file is not listed', async () => {
    const key = 'p/run=1/chunk-00000.parquet';
    const moduleUrl = pathToFileURL(join(process.cwd(), 'lambdas/local/adapters/local-staging/index.ts')).href;
    const script = `
      const { createLocalStaging } = await import(${JSON.stringify(moduleUrl)});
      const s = createLocalStaging({ root: ${JSON.stringify(root)} }).createWriteStream(${JSON.stringify(key)});
      s.write(Buffer.alloc(100000, 1), () => { process.stdout.write('ready\\n'); });
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [line] = await Promise.race([
      once(child.stdout, 'data') as Promise<[Buffer]>,
      once(child, 'exit').then(() => {
        throw new Error(`child exited early: ${stderr}`);
      }),
    ]);
    expect(line.toString()).toBe('ready\n');
    child.kill('SIGKILL');
    await once(child, 'exit');

    const left = await readdir(join(root, 'p', 'run=1'));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.hw-tmp-/);
    expect((await stat(join(root, 'p', 'run=1', left[0]!))).size).toBe(100_000);
    expect(await listAll(staging, '')).toEqual([]);
    await expect(staging.openRead(key)).rejects.toThrow(StagingError);
  });

  test('delete prunes emptied directories up to, but not including, the root', async () => {
    await writeObject(staging, 'a/b/run=1/x', 'x');
    await writeObject(staging, 'a/b/run=2/y', 'y');
    await writeObject(staging, 'a/c/z', 'z');
    await staging.delete(['a/b/run=1/x']);
    expect((await readdir(join(root, 'a', 'b'))).sort()).toEqual(['run=2']);
    await staging.delete(['a/b/run=2/y']);
    expect(await readdir(join(root, 'a'))).toEqual(['c']);
    await staging.delete(['a/c/z']);
    expect(await readdir(root)).toEqual([]);
  });

  test('keys using the reserved temp prefix are refused', async () => {
    expect(() => staging.createWriteStream('p/.hw-tmp-abc')).toThrow(StagingError);
    await expect(staging.putJson('.hw-tmp-x/y.json', 1)).rejects.toThrow(StagingError);
  });

  test('a relative root is resolved to an absolute location', () => {
    const rel = createLocalStaging({ root: 'some/relative/dir' });
    expect(rel.locate('a/b.parquet')).toBe(join(process.cwd(), 'some/relative/dir/a/b.parquet'));
  });

  test('getJson of a file that is not JSON throws StagingError naming the key', async () => {
    await writeObject(staging, 'p/bad.json', '{not json');
    await expect(staging.getJson('p/bad.json')).rejects.toThrow(/p\/bad\.json .* is not valid JSON/);
  });

  test('openRead, getJson and delete of a directory throw StagingError', async () => {
    await writeObject(staging, 'p/q/file', 'x');
    await expect(staging.openRead('p/q')).rejects.toThrow(/p\/q under .* is not a file/);
    await expect(staging.getJson('p/q')).rejects.toThrow(StagingError);
    await expect(staging.delete(['p/q'])).rejects.toThrow(StagingError);
  });

  test('writes under a root that is a file fail with StagingError', async () => {
    const fileRoot = join(dir, 'plain-file');
    await writeFile(fileRoot, 'x');
    const broken = createLocalStaging({ root: fileRoot });
    const stream = broken.createWriteStream('p/x.bin');
    stream.end(Buffer.from('data'));
    await expect(broken.finished(stream)).rejects.toThrow(StagingError);
    await expect(broken.putJson('p/x.json', {})).rejects.toThrow(StagingError);
  });

  test('a prefix that cannot be read fails the listing with StagingError', async () => {
    await mkdir(root, { recursive: true });
    await symlink(join(root, 'loop'), join(root, 'loop'));
    await expect(listAll(staging, 'loop/')).rejects.toThrow(/cannot list loop\//);
  });
});
