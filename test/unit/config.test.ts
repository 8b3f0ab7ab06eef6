import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'logstream-config-'));
  const file = join(dir, 'pipeline_config.json');
  writeFileSync(file, content);
  return file;
}

function loadError(options: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the configuration to be refused');
}

describe('configuration', () => {
  it('has defaults for everything', () => {
    const { config, file, explicitKeys } = loadConfig({ env: {}, cwd: tmpdir() });
    assert.equal(file, undefined);
    assert.equal(config.kafka.servers, '127.0.0.1:9092');
    assert.equal(config.kafka.topic, 'web-logs');
    assert.equal(config.elasticsearch.enabled, true);
    assert.equal(config.ml.training_samples, 10000);
    assert.equal(config.ml.retrain_interval_hours, 24);
    assert.equal(explicitKeys.size, 0);
  });

  it('reads the keys users already write and lets the environment override them', () => {
    const file = configFile(
      JSON.stringify({
        kafka: { servers: 'broker:9092', topic: 'access' },
        elasticsearch: { host: 'http://search:9200', enabled: false },
        ml: { training_samples: 500, retrain_interval_hours: 6 },
      }),
    );
    const { config, explicitKeys } = loadConfig({
      configFile: file,
      env: { LOGSTREAM_ML_TRAINING_SAMPLES: '700', LOGSTREAM_KAFKA_TOPIC: '123' },
    });
    assert.equal(config.kafka.servers, 'broker:9092');
    assert.equal(config.kafka.topic, '123', 'a string key keeps a numeric-looking value as a string');
    assert.equal(config.elasticsearch.enabled, false);
    assert.equal(config.ml.training_samples, 700);
    assert.equal(config.ml.retrain_interval_hours, 6);
    assert.ok(explicitKeys.has('kafka.servers'));
    assert.ok(!explicitKeys.has('temporal.address'));
  });

  it('finds the file from LOGSTREAM_CONFIG, and ./pipeline_config.json when present', () => {
    const file = configFile(JSON.stringify({ kafka: { topic: 'from-env' } }));
    assert.equal(loadConfig({ env: { LOGSTREAM_CONFIG: file } }).config.kafka.topic, 'from-env');
    const dir = join(file, '..');
    assert.equal(loadConfig({ env: {}, cwd: dir }).file, file);
  });

  it('names the key and the file for a wrong type', () => {
    const file = configFile(JSON.stringify({ kafka: { partitions: 'three' } }));
    const error = loadError({ configFile: file, env: {} });
    assert.equal(error.exitCode, 2);
    assert.equal(error.key, 'kafka.partitions');
    assert.match(error.message, /kafka\.partitions/);
    assert.ok(error.message.includes(file));
  });

  it('names an unknown key and what the section takes', () => {
    const file = configFile(JSON.stringify({ elasticsearch: { hots: 'http://x:9200' } }));
    const error = loadError({ configFile: file, env: {} });
    assert.equal(error.key, 'elasticsearch.hots');
    assert.match(error.message, /unknown key.*host/);
  });

  it('refuses an unreadable or malformed file and an unknown variable', () => {
    assert.match(loadError({ configFile: '/nonexistent/pipeline_config.json', env: {} }).message, /cannot read.*no such file/);
    assert.match(loadError({ configFile: configFile('{"kafka": '), env: {} }).message, /not valid JSON/);
    assert.match(loadError({ env: { LOGSTREAM_KAFKA_SERVERZ: 'x:1' } }).message, /LOGSTREAM_KAFKA_SERVERZ/);
    assert.match(loadError({ env: { LOGSTREAM_KAFKA_PARTITIONS: 'many' } }).message, /LOGSTREAM_KAFKA_PARTITIONS.*kafka\.partitions/);
  });
});

describe('docs/configuration.md', () => {
  it('documents every key with its variable and default', async () => {
    const { readFileSync } = await import('node:fs');
    const { configSchema } = await import('../../config/schema.js');
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const defaults = configSchema.parse({}) as Record<string, Record<string, unknown>>;
    for (const [section, values] of Object.entries(defaults)) {
      const sectionSchema = configSchema.shape[section as keyof typeof configSchema.shape].unwrap();
      for (const key of Object.keys(sectionSchema.shape)) {
        const row = docs.split('\n').find((line) => line.startsWith(`| \`${section}.${key}\` |`));
        assert.ok(row, `docs/configuration.md has no row for ${section}.${key}`);
        assert.ok(row.includes(`LOGSTREAM_${section.toUpperCase()}_${key.toUpperCase()}`), `${section}.${key}: variable name`);
        const value = values[key];
        if (value !== undefined)
          assert.ok(row.includes(`\`${JSON.stringify(value)}\``), `${section}.${key}: default ${JSON.stringify(value)}`);
      }
    }
  });
});
