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
type Callable = (...args: unknown[]) => unknown;

/**
 * Export `name` of `specifier` (without a name, its `module.exports`, which Node's ESM import hands out as the
 * default export), which must be a function or a class; a clear error if the installed version has none.
 */
function realExport(specifier: string, name?: string): unknown {
  const loaded = loadReal(specifier);
  const exported: unknown = name === undefined ? loaded : (loaded as Record<string, unknown>)[name];
  if (typeof exported === 'function') return exported;
  throw new Error(
    name === undefined
      ? `${specifier} does not export a function: its version changed`
      : `${specifier} has no export ${name}: its version changed`,
  );
}

/** A named export of `specifier` that must be a class. */
export function realClass(specifier: string, name: string): Constructor {
  return realExport(specifier, name) as Constructor;
}

/** A class that stands in for `name` of `specifier`: `new` of it builds the real class's instance. */
export function deferredClass(specifier: string, name: string): Constructor {
  return new Proxy(class {}, {
    construct: (_target, args: unknown[]) => Reflect.construct(realClass(specifier, name), args),
  });
}

/** A function that stands in for `name` of `specifier` (its `module.exports` without a name) and calls the real one. */
export function deferredFunction(specifier: string, name?: string): Callable {
  return (...args) => (realExport(specifier, name) as Callable)(...args);
}
