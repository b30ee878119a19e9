import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * Native modules only the local adapters use. Lambda entry points build their runtime from the AWS adapter set
 * (lambdas/runtime/aws.ts), so no bundle imports these — nothing under lambdas/local/ ships; the bundling test checks that.
 */
export const LOCAL_ONLY_MODULES = ['@duckdb/node-api', 'better-sqlite3'] as const;

/**
 * The Lambda runtime: the newest Node.js LTS aws-cdk-lib offers (Runtime.NODEJS_24_X in aws-cdk-lib 2.276), and
 * the syntax level the bundles are built for.
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const BUNDLE_TARGET = 'node24';

// ESM bundles have no `require`; some CommonJS dependencies (mysql2, ssh2) still call it.
const REQUIRE_BANNER =
  "import { createRequire as __hwCreateRequire } from 'node:module'; const require = __hwCreateRequire(import.meta.url);";

export interface HighwaterFunctionProps {
  /** The handler module (`export const handler`), absolute or relative to `projectRoot`. */
  readonly entry: string;
  /** The repository root: the bundler's working directory, holding package-lock.json and node_modules. */
  readonly projectRoot: string;
  /** The configuration directory (connections.yml, pipelines/), copied into the bundle as `config/`. */
  readonly configDir: string;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Bundle the Parquet encode worker (`encode-worker.js`) and parquet-wasm (with its `.wasm`) next to the handler.
   * Only the extract function writes Parquet.
   * @default false
   */
  readonly parquetWorker?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Extra environment variables (bucket, table names). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default no VPC */
  readonly vpc?: IVpc;
  /** @default the VPC's private subnets (only with `vpc`) */
  readonly vpcSubnets?: SubnetSelection;
  /** @default a new security group (only with `vpc`) */
  readonly securityGroups?: ISecurityGroup[];
  /** @default false: the log group is retained with the stack's data */
  readonly removeOnDestroy?: boolean;
  /**
   * A fixed name for the function's role: the Redshift Data API signs in with the caller's IAM identity, so the
   * database user of a function that calls it is named after this role (docs/deploy.md, "On Redshift").
   * @default a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * One Highwater Lambda: an ESM bundle for Node.js 24 on arm64 with its own log group and role. The role starts empty
 * (log writing only); the stack grants the rest, scoped to named resources.
 */
export class HighwaterFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: IRole;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HighwaterFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removeOnDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    // An explicit role: the default one carries the AWSLambdaBasicExecutionRole managed policy (logs:* on *).
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    this.logGroup.grantWrite(role);
    this.role = role;

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(props.projectRoot, props.entry),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: props.timeout ?? Duration.minutes(1),
      memorySize: props.memorySize ?? 512,
      role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.vpc ? props.securityGroups : undefined,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'highwater',
        POWERTOOLS_METRICS_NAMESPACE: 'Highwater',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        HIGHWATER_CONFIG_DIR: '/var/task/config',
        // The only writable place in a Lambda.
        HIGHWATER_HOME: '/tmp/highwater',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        platform: 'node',
        mainFields: ['module', 'main'],
        banner: REQUIRE_BANNER,
        // The AWS SDK is bundled: the function runs the SDK version package-lock.json pins and the tests ran, not
        // whichever copy the Lambda runtime carries (which AWS updates on its own schedule). ssh2's native add-ons
        // are optional (it falls back to JavaScript when their require throws).
        externalModules: ['cpu-features', '*.node'],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => afterBundling(inputDir, outputDir, props),
        },
      },
    });
  }
}

/**
 * Shell commands run after esbuild (in the bundling directory, locally):
 * - `index.mjs` becomes `index.js` under a `{"type":"module"}` package.json, because the encoder finds its worker
 *   as `encode-worker.js` next to a module whose URL ends in `.js` (lambdas/adapters/parquet/encoder.ts).
 * - the worker loads Arrow and parquet-wasm through `createRequire`, which esbuild does not follow: the part of Arrow
 *   it uses (lambdas/adapters/parquet/arrow-subset.ts) is bundled, tree-shaken, into `arrow.cjs` beside it, where it
 *   looks first; parquet-wasm into `node_modules/parquet-wasm/index.js` of the asset, with `parquet_wasm_bg.wasm`
 *   next to it, where its loader reads `${__dirname}/parquet_wasm_bg.wasm`.
 * - the configuration's connections.yml and pipelines/ are copied to `config/` (HIGHWATER_CONFIG_DIR).
 */
export function afterBundling(inputDir: string, outputDir: string, props: HighwaterFunctionProps): string[] {
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const esbuild = q(join(inputDir, 'node_modules', '.bin', 'esbuild'));
  const out = (p: string): string => q(join(outputDir, p));
  const commands = [
    `mv ${out('index.mjs')} ${out('index.js')}`,
    `echo '{"type":"module"}' > ${out('package.json')}`,
    `mkdir -p ${out('config')}`,
    // Only the YAML: a .env beside it may hold secrets, which must not ship inside the code bundle.
    ...['connections.yml', 'pipelines'].map((f) => {
      const src = q(join(props.configDir, f));
      return `if [ -e ${src} ]; then cp -R ${src} ${out('config')}/; fi`;
    }),
  ];
  if (props.parquetWorker) {
    const worker = join(inputDir, 'lambdas', 'adapters', 'parquet', 'encode-worker.ts');
    const nm = join(inputDir, 'node_modules');
    commands.push(
      `${esbuild} ${q(worker)} --bundle --platform=node --format=esm --target=${BUNDLE_TARGET} --log-level=warning --outfile=${out('encode-worker.js')}`,
      `${esbuild} ${q(join(inputDir, 'lambdas', 'adapters', 'parquet', 'arrow-subset.ts'))} --bundle --platform=node --format=cjs --main-fields=module,main --target=${BUNDLE_TARGET} --log-level=warning --outfile=${out('arrow.cjs')}`,
      `${esbuild} ${q(join(nm, 'parquet-wasm', 'node', 'parquet_wasm.js'))} --bundle --platform=node --format=cjs --target=${BUNDLE_TARGET} --log-level=warning --outfile=${out('node_modules/parquet-wasm/index.js')}`,
      `cp ${q(join(nm, 'parquet-wasm', 'node', 'parquet_wasm_bg.wasm'))} ${out('node_modules/parquet-wasm/parquet_wasm_bg.wasm')}`,
      // A CommonJS bundle inside a `"type":"module"` asset: the package says so itself (arrow.cjs by its name).
      `echo '{"type":"commonjs","main":"index.js"}' > ${out('node_modules/parquet-wasm/package.json')}`,
    );
  }
  return commands;
}
