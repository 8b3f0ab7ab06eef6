// A `logstream worker` whose every connection is secured — Temporal through the API-key front,
// Kafka over SASL_SSL with SCRAM, OpenSearch through the basic-auth front, MLflow with basic auth,
// /metrics behind basic auth — runs a health check on all of them; none of its secrets appears in
// its log output (at debug level), in the health report Temporal stores, or in `config show`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createKafkaClient } from '../../clients/kafka/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { kafkaStackSecurity } from '../../infra/stack/services/kafka.js';
import { mlflowAuthStack } from '../../infra/stack/services/mlflowAuth.js';
import { nginxFronts } from '../../infra/stack/services/nginx.js';
import type { HealthReport } from '../../workflows/types.js';
import { fileReference, stackTls } from '../helpers/secured.js';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { freePort, isExternalService, requireService, uniqueName, waitFor } from '../helpers/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const external = ['kafka', 'temporal', 'opensearch', 'mlflow'].some((name) => isExternalService(name));
let config: PipelineConfig;
let env: NodeJS.ProcessEnv;
let secrets: string[];
const topic = uniqueName('secrets-worker');

const read = (file: string) => readFileSync(file, 'utf8').trim();

describe('a worker with secured connections', { skip: external && 'some services point at your own instances', timeout: 240_000 }, () => {
  before(async () => {
    config = await requireService('nginx');
    for (const name of ['mlflow-auth', 'kafka', 'temporal', 'opensearch']) await requireService(name, config);
    const kafka = kafkaStackSecurity(config);
    const fronts = nginxFronts(config);
    const mlflow = mlflowAuthStack(config);
    const tls = stackTls(config);
    const metricsPassword = `metrics-${uniqueName('secret')}`;
    secrets = [
      read(kafka.scramPasswordFile),
      read(fronts.searchPasswordFile),
      read(fronts.temporalApiKeyFile),
      read(mlflow.passwordFile),
      metricsPassword,
    ];
    const queue = uniqueName('secrets-queue');
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LOGSTREAM_'))),
      LOGSTREAM_STACK_STATE_DIR: config.stack.state_dir,
      LOGSTREAM_STACK_CACHE_DIR: config.stack.cache_dir,
      LOGSTREAM_LOG_LEVEL: 'debug',
      LOGSTREAM_DELTA_ROOT: mkdtempSync(join(tmpdir(), 'secrets-worker-')),
      // Temporal: an API key in clear through its own variable (kept as a reference to it).
      LOGSTREAM_TEMPORAL_ADDRESS: fronts.temporalApiKeyAddress,
      LOGSTREAM_TEMPORAL_API_KEY: read(fronts.temporalApiKeyFile),
      LOGSTREAM_TEMPORAL_TLS_CA_FILE: tls.ca,
      LOGSTREAM_TEMPORAL_TLS_SERVER_NAME: 'localhost',
      LOGSTREAM_TEMPORAL_TASK_QUEUE: queue,
      LOGSTREAM_TEMPORAL_STREAMER_TASK_QUEUE: `${queue}-streamers`,
      // Kafka: SCRAM over TLS, the password in a variable the configuration names.
      LOGSTREAM_KAFKA_SERVERS: kafka.saslSslServers,
      LOGSTREAM_KAFKA_TOPIC: topic,
      LOGSTREAM_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      LOGSTREAM_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      LOGSTREAM_KAFKA_SASL_USERNAME: kafka.username,
      LOGSTREAM_KAFKA_SASL_PASSWORD: `\${env:TEST_KAFKA_PASSWORD}`,
      TEST_KAFKA_PASSWORD: read(kafka.scramPasswordFile),
      LOGSTREAM_KAFKA_TLS_CA_FILE: tls.ca,
      // OpenSearch through the basic-auth front; MLflow with basic auth; both passwords from files.
      LOGSTREAM_ELASTICSEARCH_HOST: fronts.opensearchUrl,
      LOGSTREAM_ELASTICSEARCH_USERNAME: fronts.searchUsername,
      LOGSTREAM_ELASTICSEARCH_PASSWORD: fileReference(fronts.searchPasswordFile),
      LOGSTREAM_ELASTICSEARCH_TLS_CA_FILE: tls.ca,
      LOGSTREAM_MLFLOW_TRACKING_URI: mlflow.trackingUri,
      LOGSTREAM_MLFLOW_USERNAME: mlflow.username,
      LOGSTREAM_MLFLOW_PASSWORD: fileReference(mlflow.passwordFile),
      LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()),
      LOGSTREAM_PROMETHEUS_METRICS_USERNAME: 'scraper',
      LOGSTREAM_PROMETHEUS_METRICS_PASSWORD: metricsPassword,
    };
    const admin = createKafkaClient({
      servers: kafka.saslSslServers,
      client_id: uniqueName('secrets-admin'),
      security_protocol: 'SASL_SSL',
      sasl_mechanism: 'SCRAM-SHA-512',
      sasl_username: kafka.username,
      sasl_password: fileReference(kafka.scramPasswordFile),
      tls_ca_file: tls.ca,
    });
    await admin.ensureTopic(topic, 1);
    await admin.close();
  });

  after(async () => {
    const admin = createKafkaClient({ ...config.kafka, client_id: uniqueName('secrets-cleanup') });
    await admin.deleteTopic(topic).catch(() => undefined);
    await admin.close();
  });

  test('checks Kafka, the search engine and MLflow through the worker, and never prints a secret', async () => {
    const worker = spawn(process.execPath, logstreamArgs('worker'), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    let health = '';
    try {
      await waitFor('the worker to be ready', () => output.includes('worker ready') || worker.exitCode !== null, { timeoutMs: 120_000 });
      assert.equal(worker.exitCode, null, `the worker exited:\n${output}`);

      const metricsUrl = `http://127.0.0.1:${env.LOGSTREAM_PROMETHEUS_METRICS_PORT}/metrics`;
      assert.equal((await fetch(metricsUrl)).status, 401);
      const scraped = await fetch(metricsUrl, {
        headers: { authorization: `Basic ${Buffer.from(`scraper:${env.LOGSTREAM_PROMETHEUS_METRICS_PASSWORD}`).toString('base64')}` },
      });
      assert.equal(scraped.status, 200);

      const result = spawnSync(process.execPath, ['bin/logstream.js', 'health', '--json', '--id', uniqueName('no-pipeline')], {
        cwd: root,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      health = `${result.stdout}${result.stderr}`;
      const report = JSON.parse(result.stdout) as HealthReport;
      const status = Object.fromEntries(report.checks.map((check) => [check.name, `${check.status}: ${check.detail}`]));
      for (const name of ['kafka', 'search-engine', 'mlflow']) assert.match(status[name] ?? '', /^ok: /, `${name}: ${status[name]}`);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    assert.match(output, /"msg":"worker ready"/, 'the worker logged at debug level');
    for (const secret of secrets) {
      assert.ok(!output.includes(secret), `the worker's output holds a secret:\n${output.slice(0, 2000)}`);
      assert.ok(!health.includes(secret), 'the health report holds a secret');
    }
    const shown = spawnSync(process.execPath, ['bin/logstream.js', 'config', 'show'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    for (const secret of secrets) assert.ok(!shown.stdout.includes(secret), 'config show holds a secret');
  });
});
