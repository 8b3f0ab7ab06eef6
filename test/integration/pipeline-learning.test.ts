// Learn first, then judge, on a real site's log: a pipeline on the site's own traffic (the default)
// with a worker and the real Apache log replayed into its topic stores rows unscored and sends no
// alert while it learns; once Delta holds enough of the site's traffic it trains from it, the
// own-traffic gate promotes the model, and later rows carry that model's version.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { statusQuery, stopSignal } from '../../workflows/signals.js';
import type { PipelineStatus } from '../../workflows/types.js';
import { APACHE_LOG } from '../helpers/fixtures.js';
import { freePort, requireService, uniqueName } from '../helpers/stack.js';
import { pipelineEnv, spawnWorker, testClient, waitFor, type SpawnedWorker } from '../helpers/temporal.js';
import { tableRowCount, tableRows, topicMessageCount } from './streamer-support.js';

const repositoryRoot = new URL('../..', import.meta.url).pathname;
let worker: SpawnedWorker | undefined;
let client: Client | undefined;

after(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill('SIGTERM');
  await worker?.exited;
  await client?.connection.close();
});

test('a pipeline on a site’s log learns unscored, trains from Delta, and scores once its own model is promoted', {
  timeout: 600_000,
}, async (t) => {
  const config = await requireService('temporal');
  for (const service of ['kafka', 'mlflow']) await requireService(service, config);
  const name = uniqueName('learning');
  const deltaRoot = await mkdtemp(join(tmpdir(), 'learning-delta-'));
  const env = {
    ...pipelineEnv(name, deltaRoot),
    LOGSTREAM_KAFKA_PARTITIONS: '2',
    LOGSTREAM_ELASTICSEARCH_ENABLED: 'false',
    LOGSTREAM_MLFLOW_REGISTERED_MODEL: `${name}-model`,
    LOGSTREAM_MLFLOW_EXPERIMENT: `${name}-experiment`,
    LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()),
    LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '300',
    // A backfill of a 2015 log: no event-time window, and a lookback that reaches it.
    LOGSTREAM_DECODE_MAX_EVENT_AGE_HOURS: '0',
    LOGSTREAM_ML_LOOKBACK_HOURS: '200000',
    LOGSTREAM_ML_LEARNING_ROWS: '4000',
    LOGSTREAM_ML_LEARNING_MINUTES: '0',
    LOGSTREAM_ML_LEARNING_CHECK_SECONDS: '3',
    // As in own-traffic-gate.test.ts: the log's lines all fall in minute :05 of their hour, so a
    // large sample puts slices on them; the test's own false-positive budget.
    LOGSTREAM_ML_TRAINING_SAMPLES: '20000',
    LOGSTREAM_ML_K_MIN: '2',
    LOGSTREAM_ML_K_MAX: '5',
    LOGSTREAM_ML_GATE_HOLDOUT_FRACTION: '0.25',
    LOGSTREAM_ML_GATE_FALSE_POSITIVE_BUDGET: '0.04',
  };
  const lines = readFileSync(APACHE_LOG, 'utf8').split('\n').filter(Boolean);
  const halves = [lines.slice(0, 6000), lines.slice(6000)].map((part, index) => {
    const file = join(deltaRoot, `..`, `${name}-part-${index}.log`);
    writeFileSync(file, `${part.join('\n')}\n`);
    return file;
  });
  const replay = (file: string) => {
    const result = spawnSync(process.execPath, ['bin/logstream.js', 'replay', file, '--topic', name], {
      cwd: repositoryRoot,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
  };

  worker = await spawnWorker(name, env);
  client = await testClient(config);
  const handle = await client.workflow.start('pipelineWorkflow', {
    taskQueue: env.LOGSTREAM_TEMPORAL_TASK_QUEUE,
    workflowId: name,
    args: [{ streamers: 1 }],
  });
  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  try {
    await waitFor('the pipeline to start', async () => (await handle.query<PipelineStatus>(statusQuery)).state === 'running', 120_000);
    replay(halves[0]!);
    const learning = await waitFor(
      'the pipeline to report learning',
      async () => {
        const status = await handle.query<PipelineStatus>(statusQuery);
        return status.learning && status.learning.state !== 'scoring' ? status.learning : undefined;
      },
      120_000,
    );
    t.diagnostic(`learning: ${JSON.stringify(learning)}`);
    await waitFor('the first half in Delta', async () => (await tableRowCount(deltaRoot, 'logs')) >= 5900, 120_000);
    const unscored = await tableRows(deltaRoot, 'logs', ['anomaly_score', 'is_anomaly', 'model_version']);
    assert.ok(
      unscored.every((row) => row.anomaly_score === null && row.is_anomaly === null && row.model_version === null),
      'rows stored while learning carry no verdict',
    );
    assert.equal(await tableRowCount(deltaRoot, 'anomalies'), 0, 'no anomalies while learning');
    await kafka.ensureTopic(env.LOGSTREAM_KAFKA_ANOMALIES_TOPIC, 1);
    assert.equal(await topicMessageCount(kafka, env.LOGSTREAM_KAFKA_ANOMALIES_TOPIC), 0, 'no alerts while learning');

    const trained = await waitFor(
      'a first model trained from Delta and promoted',
      async () => {
        const last = (await handle.query<PipelineStatus>(statusQuery)).learning?.lastTraining;
        if (last?.finishedAt && !last.promoted) throw new Error(`not promoted: ${JSON.stringify(last)}`);
        return last?.promoted ? last : undefined;
      },
      420_000,
      2000,
    );
    t.diagnostic(`first model: ${JSON.stringify(trained)}`);
    await waitFor(
      'the streamer scoring with it',
      async () => (await handle.query<PipelineStatus>(statusQuery)).streamers.some((streamer) => streamer.modelVersion === trained.version),
      120_000,
    );
    replay(halves[1]!);
    await waitFor('the second half in Delta', async () => (await tableRowCount(deltaRoot, 'logs')) >= 9900, 120_000);
    const rows = await tableRows(deltaRoot, 'logs', ['kafka_offset', 'kafka_partition', 'model_version', 'anomaly_score']);
    const scored = rows.filter((row) => row.model_version === trained.version);
    assert.ok(scored.length >= 3900, `${scored.length} rows scored by version ${trained.version}`);
    assert.ok(
      scored.every((row) => typeof row.anomaly_score === 'number'),
      'scored rows have a score',
    );
    const status = await handle.query<PipelineStatus>(statusQuery);
    assert.equal(status.learning?.state, 'scoring');
    await handle.signal(stopSignal);
    await handle.result();
  } finally {
    await kafka.close();
  }
});
