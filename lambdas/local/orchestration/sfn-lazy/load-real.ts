/**
 * Loads a module the Step Functions library depends on, as the library itself would find it: resolved from the
 * library's own folder (not from Highwater's), through `require`, which is synchronous, at a stand-in's first use.
 */
import { createRequire } from 'node:module';
import { libraryUrl } from './hooks.js';

// From the library's folder rather than its file: the deferring hook redirects imports made by the file itself.
const requireFromLibrary = createRequire(new URL('./', libraryUrl()));

/** The real module `specifier` (its CommonJS build: what Node's ESM import of it would also hand out). */
export function loadReal(specifier: string): unknown {
  return requireFromLibrary(specifier);
}

type Constructor = new (...args: unknown[]) => object;

/** A named export of `specifier` that must be a class; a clear error if the installed version has none. */
export function realClass(specifier: string, name: string): Constructor {
  const exported: unknown = (loadReal(specifier) as Record<string, unknown>)[name];
  if (typeof exported !== 'function') throw new Error(`${specifier} has no export ${name}: its version changed`);
  return exported as Constructor;
}

/** A class that stands in for `name` of `specifier`: `new` of it builds the real class's instance. */
export function deferredClass(specifier: string, name: string): Constructor {
  return new Proxy(class {}, {
    construct: (_target, args: unknown[]) => Reflect.construct(realClass(specifier, name), args),
  });
}
