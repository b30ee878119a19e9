/**
 * One configuration and Runtime per Lambda container, built on the first invocation and reused by the next ones
 * (connections, clients and the warehouse handle stay warm). A failed build is forgotten so the next invocation
 * tries again instead of failing forever.
 */
import { dirname } from 'node:path';
import { loadConfig } from '../engine/config/index.js';
import { awsAdapters } from '../runtime/aws-adapters.js';
import { createRuntimeWith, type Runtime } from '../runtime/runtime-core.js';
import { functionEnv } from './env.js';

let cached: Promise<Runtime> | undefined;

async function build(): Promise<Runtime> {
  const config = await loadConfig({
    // .env, if any, is read next to the bundled config directory, not from wherever the process started.
    cwd: dirname(functionEnv.HIGHWATER_CONFIG_DIR),
    configDir: functionEnv.HIGHWATER_CONFIG_DIR,
    home: functionEnv.HIGHWATER_HOME,
    env: process.env,
  });
  // AWS adapters only: the bundle never carries DuckDB or SQLite, and a local kind in the YAML fails by name.
  return createRuntimeWith(awsAdapters, config);
}

export function functionRuntime(): Promise<Runtime> {
  if (!cached) {
    const p = build();
    cached = p;
    p.catch(() => {
      if (cached === p) cached = undefined;
    });
  }
  return cached;
}

/** Closes the container's runtime (tests; a Lambda container just ends). */
export async function closeFunctionRuntime(): Promise<void> {
  const p = cached;
  cached = undefined;
  if (!p) return;
  const rt = await p.catch(() => undefined);
  await rt?.close();
}
