/**
 * CDK entry: one HighwaterStack per environment in cdk.json context (`cdk synth -c env=prod` for one of them),
 * with the pipelines of the config directory (`-c configDir=…`, default the pipelines/ examples) and cdk-nag.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lambdas/engine/config/index.js';
import { buildHighwaterApp } from '../lib/highwater-app.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
await buildHighwaterApp(app, { projectRoot, loadConfig });
app.synth();
