// Runs the pipeline (a real worker process, Temporal, Kafka, Delta, OpenSearch) on generated
// traffic with anomalies and malformed messages, lets the stack's real Prometheus scrape the
// worker, and checks that every PromQL expression of every provisioned dashboard parses and
// returns data.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { buildDashboards, promQueries } from '../../infra/grafana/dashboards.js';
import { prometheusTargetsDir } from '../../infra/stack/services/prometheus.js';
import { stopSignal } from '../../workflows/signals.js';
import { freePort, isExternalService, requireService, uniqueName } from '../helpers/stack.js';
import { pipelineEnv, spawnWorker, testClient, waitFor, type SpawnedWorker } from '../helpers/temporal.js';
import { createTrafficGenerator, toJsonLine } from '../../generator/index.js';
import { produce } from './streamer-support.js';
import { loadConfig } from '../../config/load.js';
import { generateTrainingData } from '../../generator/trainingData.js';
import { runTraining } from '../../training/trainingRun.js';

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { result: unknown[] };
}

let worker: SpawnedWorker | undefined;
let client: Client | undefined;
let targetFile: string | undefined;

after(async () => {
  if (targetFile) rmSync(targetFile, { force: true });
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await client?.connection.close();
});

test('every PromQL panel of every dashboard returns data from a running pipeline', { timeout: 420_000 }, async (t) => {
  if (isExternalService('prometheus'))
    return t.skip('prometheus.url points at an external Prometheus, which does not read the stack targets folder');
  const config = await requireService('prometheus');
  for (const service of ['temporal', 'kafka', 'opensearch']) await requireService(service, config);
  const name = uniqueName('dashboards');
  const metricsPort = await freePort();
  const env = {
    ...pipelineEnv(name, await mkdtemp(join(tmpdir(), 'dashboards-delta-'))),
    LOGSTREAM_ELASTICSEARCH_INDEX_PREFIX: name,
    LOGSTREAM_MLFLOW_REGISTERED_MODEL: `${name}-model`,
    LOGSTREAM_PROMETHEUS_METRICS_PORT: String(metricsPort),
    LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '300',
  };
  // The pipeline's own registered model gets a first champion trained on generated logs, so the
  // anomaly panels have anomalies to show.
  const trained = await runTraining({
    config: loadConfig({ env: { ...process.env, ...env } }).config,
    events: generateTrainingData(10_000, 5),
    origin: 'generated',
  });
  assert.equal(trained.published?.promotion.promoted, true, 'a first model is champion');
  worker = await spawnWorker(name, env);

  // The stack's Prometheus discovers the worker through a file_sd target file.
  const targetsDir = prometheusTargetsDir(config.stack.state_dir);
  mkdirSync(targetsDir, { recursive: true });
  targetFile = join(targetsDir, `${name}.json`);
  writeFileSync(`${targetFile}.tmp`, JSON.stringify([{ targets: [`127.0.0.1:${metricsPort}`], labels: { run: name } }]));
  renameSync(`${targetFile}.tmp`, targetFile);

  client = await testClient(config);
  const handle = await client.workflow.start('pipelineWorkflow', {
    taskQueue: env.LOGSTREAM_TEMPORAL_TASK_QUEUE,
    workflowId: name,
    // The generator's traffic, scored by the registry's champion (trained on generated logs).
    args: [{ streamers: 1, traffic: 'generated' }],
  });
  await waitFor(
    'the pipeline to create its topics and start',
    async () => (await handle.query<{ state: string }>('status')).state === 'running',
    120_000,
    1000,
  );

  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  const prometheus = config.prometheus.url.replace(/\/$/, '');
  const query = async (expr: string): Promise<QueryResponse> => {
    const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
    return (await response.json()) as QueryResponse;
  };
  try {
    // Traffic over about half a minute, so rate() windows hold several scrapes of changing counters.
    // 3,000 logs at a simulated 50/s with a high anomaly rate hold several labeled scenarios
    // (latency spikes and 5xx among them), which the first model flags.
    const generator = createTrafficGenerator({ seed: 7, startTimeMs: Date.now() - 3_600_000, ratePerSecond: 50, anomalyRate: 0.2 });
    for (let round = 0; round < 6; round += 1) {
      await produce(kafka, name, [
        ...Array.from({ length: 500 }, () => {
          const log = generator.next();
          return { key: log.clientIp, value: toJsonLine(log) };
        }),
        { key: 'bad', value: 'not json at all' },
        { key: 'bad', value: JSON.stringify({ timestamp: new Date().toISOString(), method: 'GET' }) },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    await waitFor(
      "Prometheus to scrape this pipeline's worker",
      async () => {
        const body = await query(`sum(logstream_sink_records_total{run="${name}", sink="delta_logs"})`);
        return body.data?.result.length ? true : undefined;
      },
      90_000,
      1000,
    );

    const boards = buildDashboards();
    const missing: string[] = [];
    const expressions = Object.values(boards).flatMap((board) => promQueries(board).map((entry) => ({ board: board.title!, ...entry })));
    assert.ok(expressions.length >= 25, `expected every dashboard's queries, got ${expressions.length}`);
    for (const { board, panel, expr } of expressions) {
      const body = await query(expr);
      assert.equal(body.status, 'success', `${board} / ${panel}: Prometheus refused the expression: ${body.error}\n${expr}`);
      // rate() needs two scrapes of a series; give late series a few more scrapes before calling them missing.
      const hasData =
        body.data!.result.length > 0 ||
        (await waitFor(`${panel} data`, async () => ((await query(expr)).data?.result.length ? true : undefined), 30_000, 2000).catch(
          () => false,
        ));
      if (!hasData) missing.push(`${board} / ${panel}: ${expr}`);
    }
    assert.deepEqual(missing, [], `panels without data:\n${missing.join('\n')}`);
    // The last round's dead letters may be committed after the latest scrape: wait for the next ones.
    const deadLetters = async () =>
      Number(
        (
          (await query(`sum(logstream_dead_letter_records_total{run="${name}"})`)).data?.result[0] as
            | { value: [number, string] }
            | undefined
        )?.value[1] ?? 0,
      );
    const counted = await waitFor(
      'all 12 dead letters in Prometheus',
      async () => ((await deadLetters()) >= 12 ? true : undefined),
      30_000,
      1000,
    ).catch(() => false);
    assert.ok(counted, `the malformed messages were counted as dead letters (${await deadLetters()} of 12)`);
  } finally {
    await handle.signal(stopSignal).catch(() => undefined);
    await Promise.race([handle.result().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 60_000))]);
    await kafka.close();
  }
});
