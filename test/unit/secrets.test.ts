// Secrets in the configuration: references, the refusal of clear text in a file, the conversion of
// LOGSTREAM_* secrets into references, resolution, and redaction (also by `logstream config show`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import {
  childProcessSecrets,
  redactConfig,
  redactUrl,
  referencedEnvNames,
  resolveSecret,
  splitUrlCredentials,
} from '../../config/secrets.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'logstream-secrets-'));
}

function configFile(content: object, dir = folder()): string {
  const file = join(dir, 'pipeline_config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

function refusal(options: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the configuration to be refused');
}

const sasl = { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-512', sasl_username: 'pipeline' };

describe('secrets in the configuration file', () => {
  it('refuses a clear-text secret, naming the key and the file, and shows the alternatives', () => {
    const file = configFile({ kafka: { ...sasl, sasl_password: 'hunter2-but-longer' } });
    const error = refusal({ configFile: file, env: {} });
    assert.equal(error.exitCode, 2);
    assert.equal(error.key, 'kafka.sasl_password');
    assert.ok(error.message.includes(file));
    assert.match(error.message, /kafka\.sasl_password holds a clear-text secret/);
    assert.ok(!error.message.includes('hunter2') && !error.hint?.includes('hunter2'), 'the secret is not repeated');
    for (const alternative of [`\${env:NAME}`, `\${file:`, 'LOGSTREAM_KAFKA_SASL_PASSWORD', '"allow_plaintext": true'])
      assert.ok(error.hint?.includes(alternative), `hint mentions ${alternative}: ${error.hint}`);
  });

  it('accepts clear text only with secrets.allow_plaintext in the file', () => {
    const file = configFile({ secrets: { allow_plaintext: true }, elasticsearch: { username: 'u', password: 'clear' } });
    assert.equal(loadConfig({ configFile: file, env: {} }).config.elasticsearch.password, 'clear');
  });

  it('refuses credentials inside a URL in the file, but takes them from the environment', () => {
    const file = configFile({ mlflow: { tracking_uri: 'http://admin:s3cret@mlflow:5000' } });
    const error = refusal({ configFile: file, env: {} });
    assert.equal(error.key, 'mlflow.tracking_uri');
    assert.ok(!error.message.includes('s3cret'));
    assert.match(error.message, /admin:\*\*\*@mlflow/);
    const fromEnv = loadConfig({ env: { LOGSTREAM_MLFLOW_TRACKING_URI: 'http://admin:s3cret@mlflow:5000' }, cwd: folder() });
    assert.equal(fromEnv.config.mlflow.tracking_uri, 'http://admin:s3cret@mlflow:5000');
  });

  it('refuses something that looks like a reference but is none', () => {
    const file = configFile({ temporal: { api_key: `\${vault:temporal}` } });
    assert.match(refusal({ configFile: file, env: {} }).message, /temporal\.api_key.*is not a reference/);
    assert.match(refusal({ env: { LOGSTREAM_TEMPORAL_API_KEY: `\${env:}` }, cwd: folder() }).message, /LOGSTREAM_TEMPORAL_API_KEY/);
  });
});

describe('secret references', () => {
  it('keeps references in the configuration and resolves them when asked', () => {
    const dir = folder();
    writeFileSync(join(dir, 'search-password'), 'from-a-file\n');
    const file = configFile(
      {
        kafka: { ...sasl, sasl_password: `\${env:KAFKA_PASSWORD}` },
        elasticsearch: { username: 'u', password: `\${file:search-password}` },
      },
      dir,
    );
    const { config } = loadConfig({ configFile: file, env: {}, cwd: dir });
    assert.equal(config.kafka.sasl_password, `\${env:KAFKA_PASSWORD}`);
    assert.equal(config.elasticsearch.password, `\${file:${join(dir, 'search-password')}}`, 'a relative file becomes absolute');
    assert.equal(resolveSecret(config.kafka.sasl_password, 'kafka.sasl_password', { KAFKA_PASSWORD: 'from-env' }), 'from-env');
    assert.equal(resolveSecret(config.elasticsearch.password, 'elasticsearch.password'), 'from-a-file', 'one trailing newline dropped');
    assert.deepEqual(referencedEnvNames(config), ['KAFKA_PASSWORD']);
  });

  it('stores a secret from its LOGSTREAM_* variable as a reference to that variable', () => {
    const env = { LOGSTREAM_TEMPORAL_API_KEY: 'key-value-1234' };
    const { config } = loadConfig({ env, cwd: folder() });
    assert.equal(config.temporal.api_key, `\${env:LOGSTREAM_TEMPORAL_API_KEY}`);
    assert.equal(resolveSecret(config.temporal.api_key, 'temporal.api_key', env), 'key-value-1234');
    assert.ok(!JSON.stringify(config).includes('key-value-1234'));
  });

  it('names the key and the variable or file that is missing', () => {
    assert.throws(
      () => resolveSecret(`\${env:NOT_SET_ANYWHERE}`, 'mlflow.password', {}),
      (error: ConfigError) =>
        error.key === 'mlflow.password' && /environment variable NOT_SET_ANYWHERE, which is not set/.test(error.message),
    );
    assert.throws(
      () => resolveSecret(`\${file:/nonexistent/secret}`, 'kafka.sasl_password', {}),
      (error: ConfigError) => /file \/nonexistent\/secret, which cannot be read: no such file/.test(error.message),
    );
  });
});

describe('child processes', () => {
  it('get the same configuration from a file, with the variables its secrets need and no secret in the file', () => {
    const env = {
      KAFKA_PASSWORD: 'kafka-secret',
      LOGSTREAM_TEMPORAL_API_KEY: 'temporal-secret',
      LOGSTREAM_MLFLOW_TRACKING_URI: 'http://admin:mlflow-secret@mlflow:5000',
      UNRELATED: 'x',
    };
    const dir = folder();
    const parent = loadConfig({
      configFile: configFile({ kafka: { ...sasl, sasl_password: `\${env:KAFKA_PASSWORD}` } }, dir),
      env,
      cwd: dir,
    });
    const child = childProcessSecrets(parent.config, env);
    const text = JSON.stringify(child.config);
    for (const secret of ['kafka-secret', 'temporal-secret', 'mlflow-secret'])
      assert.ok(!text.includes(secret), `child file holds ${secret}`);
    assert.deepEqual(Object.keys(child.env).sort(), ['KAFKA_PASSWORD', 'LOGSTREAM_MLFLOW_TRACKING_URI', 'LOGSTREAM_TEMPORAL_API_KEY']);
    const reloaded = loadConfig({ configFile: configFile(child.config), env: child.env, cwd: dir });
    assert.deepEqual(reloaded.config, parent.config);
  });
});

describe('keys that go together', () => {
  it('wants the whole SASL setting, a key with a certificate, and API keys on Elasticsearch only', () => {
    const cwd = folder();
    assert.match(refusal({ env: { LOGSTREAM_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }, cwd }).message, /kafka\.sasl_mechanism: is required/);
    assert.match(
      refusal({ env: { LOGSTREAM_KAFKA_SASL_MECHANISM: 'PLAIN' }, cwd }).message,
      /kafka\.sasl_mechanism: has no effect with kafka\.security_protocol PLAINTEXT/,
    );
    assert.match(
      refusal({ env: { LOGSTREAM_TEMPORAL_TLS_CERT_FILE: '/tmp/client.pem' }, cwd }).message,
      /temporal\.tls_cert_file: needs temporal\.tls_key_file/,
    );
    assert.match(
      refusal({ env: { LOGSTREAM_ELASTICSEARCH_API_KEY: 'abc' }, cwd }).message,
      /elasticsearch\.api_key: works only with elasticsearch\.kind "elasticsearch"/,
    );
    assert.match(
      refusal({ env: { LOGSTREAM_MLFLOW_TLS_CA_FILE: '/tmp/ca.pem' }, cwd }).message,
      /mlflow\.tls_ca_file: needs an https:\/\/ mlflow\.tracking_uri/,
    );
  });
});

describe('redaction', () => {
  it('hides clear-text secrets and URL passwords, keeps references, and leaves the original alone', () => {
    const { config } = loadConfig({
      env: {
        LOGSTREAM_SECRETS_ALLOW_PLAINTEXT: 'true',
        LOGSTREAM_ELASTICSEARCH_HOST: 'https://reader:url-password@search:9200',
        LOGSTREAM_MLFLOW_USERNAME: 'admin',
        LOGSTREAM_MLFLOW_PASSWORD: `\${file:/run/secrets/mlflow}`,
      },
      cwd: folder(),
    });
    const withClear = { ...config, temporal: { ...config.temporal, api_key: 'clear-api-key' } };
    const redacted = redactConfig(withClear);
    assert.equal(redacted.temporal.api_key, '***');
    assert.equal(redacted.mlflow.password, `\${file:/run/secrets/mlflow}`);
    assert.equal(redacted.elasticsearch.host, 'https://reader:***@search:9200');
    assert.equal(withClear.temporal.api_key, 'clear-api-key');
    assert.ok(!JSON.stringify(redacted).includes('url-password'));
  });

  it('redacts and splits credentials of URLs', () => {
    assert.equal(redactUrl('http://user:pass@host:5000'), 'http://user:***@host:5000');
    assert.equal(redactUrl('https://token@host/'), 'https://***@host/');
    assert.equal(redactUrl('http://127.0.0.1:9200'), 'http://127.0.0.1:9200');
    assert.deepEqual(splitUrlCredentials('http://u:p%40ss@host:9200/base'), {
      url: 'http://host:9200/base',
      username: 'u',
      password: 'p@ss',
    });
  });

  it('`logstream config show` prints no secret, whatever its source', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'secret'), 'secret-from-file\n');
    const file = configFile(
      {
        kafka: { ...sasl, sasl_password: `\${env:MY_KAFKA_PASSWORD}` },
        temporal: { api_key: `\${file:${join(dir, 'secret')}}` },
      },
      dir,
    );
    const { stdout } = await run(process.execPath, ['bin/logstream.js', '--config', file, 'config', 'show'], {
      cwd: root,
      env: {
        ...process.env,
        MY_KAFKA_PASSWORD: 'secret-from-env',
        LOGSTREAM_MLFLOW_USERNAME: 'admin',
        LOGSTREAM_MLFLOW_PASSWORD: 'secret-from-logstream-variable',
        LOGSTREAM_ELASTICSEARCH_HOST: 'https://reader:secret-in-url@search:9200',
      },
    });
    for (const secret of ['secret-from-env', 'secret-from-file', 'secret-from-logstream-variable', 'secret-in-url'])
      assert.ok(!stdout.includes(secret), `config show printed ${secret}`);
    const shown = JSON.parse(stdout) as { kafka: { sasl_password: string }; mlflow: { password: string }; elasticsearch: { host: string } };
    assert.equal(shown.kafka.sasl_password, `\${env:MY_KAFKA_PASSWORD}`);
    assert.equal(shown.mlflow.password, `\${env:LOGSTREAM_MLFLOW_PASSWORD}`);
    assert.equal(shown.elasticsearch.host, 'https://reader:***@search:9200');
  });
});
