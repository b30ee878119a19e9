import { afterAll, describe, expect, it } from 'vitest';
import { getPipeline, loadConfig, modeBanner } from '../../../../lambdas/engine/config/index.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { posOf, project, removeProjects, TWO_CONNECTIONS, thrown } from './fixture.js';

afterAll(removeProjects);

const ONLY_DEFAULT = `connections:
  sources:
    default:
      host: db
  targets:
    default:
      type: duckdb
`;

describe('mode detection', () => {
  it('no connections.yml → single-connection mode with the compatibility banner', async () => {
    const cfg = await loadConfig({ cwd: project(), env: {} });
    expect(cfg.mode).toBe('single');
    expect(cfg.reason).toContain('no config/connections.yml found');
    expect(cfg.pipelines).toEqual(['default']);
    expect(modeBanner(cfg)).toEqual([
      '🔄 v1.0.0 Compatibility Mode',
      `Single-connection mode: no config/connections.yml found; settings come from environment variables and .env`,
      `Config: the environment (MYSQL_*, .env); home: ${cfg.home}`,
    ]);
  });

  it('only connections named default → single-connection mode (settings from the environment)', async () => {
    const cwd = project({ 'config/connections.yml': ONLY_DEFAULT });
    const cfg = await loadConfig({ cwd, env: { MYSQL_HOST: 'from-env' } });
    expect(cfg.mode).toBe('single');
    expect(cfg.reason).toContain('defines only "default" connections');
    expect(cfg.sources.default?.host).toBe('from-env');
  });

  it('a file with no connections → single-connection mode', async () => {
    const cfg = await loadConfig({ cwd: project({ 'config/connections.yml': '# nothing yet\n' }), env: {} });
    expect(cfg.mode).toBe('single');
    expect(cfg.reason).toContain('defines no connections');
  });

  it('malformed YAML → single-connection mode, and the reason names the file, line and error', async () => {
    const text = 'connections:\n  sources:\n    a: [1, 2\n  targets: {}\n';
    const cfg = await loadConfig({ cwd: project({ 'config/connections.yml': text }), env: {} });
    expect(cfg.mode).toBe('single');
    expect(cfg.reason).toMatch(/^config\/connections\.yml could not be loaded, so it is IGNORED/);
    expect(cfg.reason).toMatch(/config\/connections\.yml:\d+:\d+: malformed YAML/);
    expect(modeBanner(cfg)[0]).toBe('🔄 v1.0.0 Compatibility Mode');
    expect(modeBanner(cfg)[1]).toContain('IGNORED');
  });

  it('a file that fails validation → single-connection mode with the located error in the reason', async () => {
    const text = `${TWO_CONNECTIONS}    other:\n      type: duckdb\n      colour: blue\n`;
    const cfg = await loadConfig({ cwd: project({ 'config/connections.yml': text }), env: {} });
    expect(cfg.mode).toBe('single');
    expect(cfg.reason).toContain(
      `config/connections.yml:${posOf(text, 'colour')}: connections.targets.other.colour: unknown key "colour"`,
    );
  });

  it('named connections → multi-connection mode with the default-pipeline banner', async () => {
    const cfg = await loadConfig({ cwd: project({ 'config/connections.yml': TWO_CONNECTIONS }), env: {} });
    expect(cfg.mode).toBe('multi');
    expect(cfg.reason).toBe('config/connections.yml defines 1 source (shop) and 1 target (wh)');
    expect(modeBanner(cfg)).toEqual([
      '📋 Using default pipeline configuration',
      'Multi-connection mode: config/connections.yml defines 1 source (shop) and 1 target (wh)',
      `Config: ${cfg.configDir}/connections.yml; home: ${cfg.home}`,
    ]);
    const named = modeBanner(cfg, 'sales');
    expect(named).not.toContain('📋 Using default pipeline configuration');
    expect(named).toEqual([
      `Multi-connection mode: ${cfg.reason}`,
      'Using pipeline sales',
      `Config: ${cfg.configDir}/connections.yml; home: ${cfg.home}`,
    ]);
  });

  it('HIGHWATER_MULTI_SCHEMA=true forces multi mode even with only default connections', async () => {
    const cwd = project({ 'config/connections.yml': ONLY_DEFAULT });
    const cfg = await loadConfig({ cwd, env: { HIGHWATER_MULTI_SCHEMA: 'true' } });
    expect(cfg.mode).toBe('multi');
    expect(cfg.reason).toMatch(/^forced by HIGHWATER_MULTI_SCHEMA=true; /);
    expect(cfg.sources.default?.host).toBe('db');
  });

  it("the guide's ENABLE_MULTI_SCHEMA=true forces it too; =false does not", async () => {
    const cwd = project({ 'config/connections.yml': ONLY_DEFAULT });
    expect((await loadConfig({ cwd, env: { ENABLE_MULTI_SCHEMA: 'true' } })).reason).toContain(
      'forced by ENABLE_MULTI_SCHEMA=true',
    );
    expect((await loadConfig({ cwd, env: { HIGHWATER_MULTI_SCHEMA: 'false' } })).mode).toBe('single');
  });

  it('forced multi mode + a broken connections.yml is a hard ConfigError, not a fallback', async () => {
    const text = 'connections:\n  sources: [\n';
    const cwd = project({ 'config/connections.yml': text });
    const e = await thrown(() => loadConfig({ cwd, env: { HIGHWATER_MULTI_SCHEMA: 'true' } }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^config\/connections\.yml:\d+:\d+: malformed YAML/);
  });

  it('forced multi mode without connections.yml is a ConfigError naming the variable and the file', async () => {
    const e = await thrown(() => loadConfig({ cwd: project(), env: { ENABLE_MULTI_SCHEMA: '1' } }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe(
      'ENABLE_MULTI_SCHEMA=1 forces multi-connection mode, but config/connections.yml does not exist',
    );
  });
});

describe('where configuration comes from', () => {
  it('reads .env without overriding the environment and without touching process.env', async () => {
    const cwd = project({ '.env': 'MYSQL_HOST=from-dotenv\nMYSQL_USER=dotenv-user\nHW_TEST_ONLY_VAR=x\n' });
    const cfg = await loadConfig({ cwd, env: { MYSQL_HOST: 'from-env' } });
    expect(cfg.sources.default?.host).toBe('from-env');
    expect(cfg.sources.default?.username).toBe('dotenv-user');
    expect(process.env.HW_TEST_ONLY_VAR).toBeUndefined();
  });

  it('a .env can switch modes (ENABLE_MULTI_SCHEMA)', async () => {
    const cwd = project({ '.env': 'ENABLE_MULTI_SCHEMA=true\n', 'config/connections.yml': ONLY_DEFAULT });
    expect((await loadConfig({ cwd, env: {} })).mode).toBe('multi');
  });

  it('configDir and home: option, else HIGHWATER_CONFIG_DIR / HIGHWATER_HOME, else under cwd', async () => {
    const cwd = project({ 'elsewhere/connections.yml': TWO_CONNECTIONS, 'third/connections.yml': ONLY_DEFAULT });
    const byDefault = await loadConfig({ cwd, env: {} });
    expect(byDefault.configDir).toBe(`${cwd}/config`);
    expect(byDefault.home).toBe(`${cwd}/.highwater`);
    const byEnv = await loadConfig({ cwd, env: { HIGHWATER_CONFIG_DIR: 'elsewhere', HIGHWATER_HOME: '/var/hw' } });
    expect(byEnv.configDir).toBe(`${cwd}/elsewhere`);
    expect(byEnv.home).toBe('/var/hw');
    expect(byEnv.mode).toBe('multi');
    expect(byEnv.reason).toContain('elsewhere/connections.yml defines');
    const byOption = await loadConfig({
      cwd,
      configDir: 'third',
      home: 'h',
      env: { HIGHWATER_CONFIG_DIR: 'elsewhere' },
    });
    expect(byOption.configDir).toBe(`${cwd}/third`);
    expect(byOption.home).toBe(`${cwd}/h`);
    expect(byOption.mode).toBe('single');
    expect(getPipeline(byOption, 'default').state).toEqual({ type: 'local', path: `${cwd}/h/state.sqlite` });
  });
});
