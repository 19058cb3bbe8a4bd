import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

test('defaults', () => {
  const config = loadConfig({});
  assert.equal(config.port, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDir, './data');
  assert.equal(config.publicUrl, 'http://localhost:3000');
  assert.equal(config.logLevel, 'info');
});

test('values are parsed and a trailing slash of PUBLIC_URL is dropped', () => {
  const config = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u:p@db:5432/x', PUBLIC_URL: 'https://mdm.example.com/', LOG_LEVEL: 'warn' });
  assert.equal(config.port, 8080);
  assert.equal(config.databaseUrl, 'postgres://u:p@db:5432/x');
  assert.equal(config.publicUrl, 'https://mdm.example.com');
  assert.equal(config.logLevel, 'warn');
});

test('a bad value names the variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && error.message.includes(variable), variable);
  }
});

test('webhook and metrics settings: defaults, values, and bad values named', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.webhookAllowPrivateNetworks, false);
  assert.equal(defaults.webhookTimeoutMs, 10_000);
  assert.equal(defaults.webhookMaxResponseBytes, 65_536);
  assert.equal(defaults.webhookMaxAttempts, 12);
  assert.equal(defaults.webhookRetryBaseMs, 30_000);
  assert.equal(defaults.metricsToken, undefined);
  const set = loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_MS: '2000', METRICS_TOKEN: 'a-long-enough-metrics-token' });
  assert.equal(set.webhookAllowPrivateNetworks, true);
  assert.equal(set.webhookTimeoutMs, 2000);
  assert.equal(set.metricsToken, 'a-long-enough-metrics-token');
  assert.equal(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: '0' }).webhookAllowPrivateNetworks, false);
  const cases: Array<[Record<string, string>, string]> = [
    [{ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' }, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'],
    [{ WEBHOOK_TIMEOUT_MS: '10' }, 'WEBHOOK_TIMEOUT_MS'],
    [{ WEBHOOK_MAX_ATTEMPTS: '0' }, 'WEBHOOK_MAX_ATTEMPTS'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ METRICS_TOKEN: 'has spaces in it, sixteen+' }, 'METRICS_TOKEN'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && error.message.includes(variable), variable);
  }
});
