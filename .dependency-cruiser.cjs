/**
 * The layering of the code, checked by `npm run check` (depcruise): no module or folder imports in a circle, the
 * engine and the handlers reach systems only through ports, and nothing that ships in a Lambda imports local-only
 * code (lambdas/local/). From the ground up: domain → ports → engine → handlers → orchestration / runtime →
 * functions; adapters sit beside the engine and are chosen by the runtime.
 */
const shipped = '^lambdas/(?!local/)';
module.exports = {
  forbidden: [
    { name: 'no-circular-modules', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-circular-folders', severity: 'error', scope: 'folder', from: {}, to: { circular: true } },
    {
      name: 'engine-and-handlers-use-ports',
      comment: 'the engine and the handlers reach MySQL, staging, state and warehouses only through ports/',
      severity: 'error',
      from: { path: '^lambdas/(domain|ports|engine|handlers)/' },
      to: { path: '^lambdas/(adapters|local/adapters)/' },
    },
    {
      name: 'lambda-code-is-not-local',
      comment: 'what ships in a Lambda never imports lambdas/local/ (DuckDB, SQLite, the local runner)',
      severity: 'error',
      from: { path: shipped },
      to: { path: '^lambdas/local/' },
    },
    {
      name: 'domain-is-the-ground',
      severity: 'error',
      from: { path: '^lambdas/domain/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/(domain/|errors\\.ts$)' },
    },
    {
      name: 'ports-need-only-the-domain',
      severity: 'error',
      from: { path: '^lambdas/ports/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/(ports/|domain/|errors\\.ts$)' },
    },
    {
      name: 'engine-does-not-reach-up',
      severity: 'error',
      from: { path: '^lambdas/engine/' },
      to: { path: '^lambdas/(handlers|orchestration|runtime|functions|local)/' },
    },
    {
      name: 'handlers-are-not-wiring',
      severity: 'error',
      from: { path: '^lambdas/handlers/' },
      to: { path: '^lambdas/(orchestration|runtime|functions|local)/' },
    },
    {
      name: 'adapters-do-not-reach-up',
      severity: 'error',
      from: { path: '^lambdas/(adapters|local/adapters)/' },
      to: { path: '^lambdas/(handlers|orchestration|runtime|functions)/|^lambdas/local/(?!adapters/)' },
    },
    {
      name: 'runtime-is-only-wiring',
      severity: 'error',
      from: { path: '^lambdas/runtime/' },
      to: { path: '^lambdas/(handlers|orchestration|functions|local)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|cdk\\.out)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs'] },
  },
};
