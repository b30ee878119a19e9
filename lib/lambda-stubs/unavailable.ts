/**
 * Stand-ins for the local-only native modules inside the Lambda bundles. esbuild inlines the adapters' lazy
 * `import('./warehouse.js')` into the one ESM file, which hoists their `import … from '@duckdb/node-api'` to the
 * top of the bundle: left external, the module would be required at load time and every function would fail to
 * start. Aliased to these files instead, the bundle loads, and only a (mis)configured local adapter fails, by name.
 */
import { ConfigError } from '../../lambdas/runtime/errors.js';

export function unavailable(module: string): never {
  throw new ConfigError(`${module} is local-only and not in the Lambda bundle`, {
    suggestion: 'On AWS, use staging type s3, state type dynamodb and a redshift target.',
  });
}

/** A class whose construction and static factories fail; `instanceof` checks against it are simply false. */
export function unavailableClass(module: string): new (...args: unknown[]) => object {
  return class {
    constructor() {
      unavailable(module);
    }
    static create(): never {
      return unavailable(module);
    }
  };
}
