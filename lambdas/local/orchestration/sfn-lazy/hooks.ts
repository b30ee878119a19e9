/**
 * Defers three imports that aws-local-stepfunctions makes when it loads and a local run never uses: the AWS SDK's
 * Lambda client and credential providers (for Task states without a local handler: every local Task has one,
 * local-machine.ts) and asl-validator (local runs skip validation, local-machine.ts). Together they are ~120 of the
 * ~700 modules a local sync loads: 0.1 s of every run's start (decision 0007, fifth round).
 *
 * Node's synchronous module hooks (`module.registerHooks`, Node ≥ 22.15) resolve those three imports, made by the
 * library's ESM build only, to the modules beside this one, which load the real ones at their first use. Where the
 * hooks are missing, nothing is deferred and the library loads as it always did.
 */
import nodeModule from 'node:module';

/** The specifiers deferred, each with the module of this folder that stands in for it. */
export const DEFERRED_IMPORTS: Readonly<Record<string, string>> = {
  '@aws-sdk/client-lambda': './client-lambda.js',
  '@aws-sdk/credential-providers': './credential-providers.js',
  'asl-validator': './asl-validator.js',
};

interface ResolveContext {
  parentURL?: string | undefined;
}
interface ResolveResult {
  url: string;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: ResolveContext) => ResolveResult;
interface SyncHooks {
  resolve(specifier: string, context: ResolveContext, next: NextResolve): ResolveResult;
}
type RegisterHooks = (hooks: SyncHooks) => unknown;

/** The file URL of the library's ESM build, whose imports are the only ones redirected. */
export function libraryUrl(): string {
  return import.meta.resolve('aws-local-stepfunctions');
}

/** The resolve hook: the three specifiers imported by `library` go to their stand-ins; anything else goes on. */
export function deferringResolve(library: string): SyncHooks['resolve'] {
  return (specifier, context, next) => {
    const standIn = context.parentURL === library ? DEFERRED_IMPORTS[specifier] : undefined;
    return standIn ? { url: new URL(standIn, import.meta.url).href, shortCircuit: true } : next(specifier, context);
  };
}

/**
 * Registers the hook with `modules` (Node's module API), before anything imports the library. Returns whether it
 * could: false on a Node.js without `module.registerHooks` (the `@types/node` this builds with does not declare
 * it), where the library loads eagerly, and false where the library cannot be found.
 */
export function deferStepFunctionsLibraryImports(
  modules: { registerHooks?: RegisterHooks } = nodeModule as { registerHooks?: RegisterHooks },
  resolveLibrary: () => string = libraryUrl,
): boolean {
  if (typeof modules.registerHooks !== 'function') return false;
  let library: string;
  try {
    library = resolveLibrary();
  } catch {
    // Not installed: nothing to defer, and every command but a local run works without it; a local run fails
    // where it imports the library, naming it, as it did before this hook.
    return false;
  }
  modules.registerHooks({ resolve: deferringResolve(library) });
  return true;
}
