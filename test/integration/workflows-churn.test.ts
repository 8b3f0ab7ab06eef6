// Exactly once at the Temporal level: two `logstream worker` processes run one pipeline of three
// streamers on a 6-partition topic while logs are produced; one worker is SIGKILLed twice mid-run
// (and started again). delta-rs counts: every (partition, offset) once in logs or quarantine.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { stopSignal } from '../../workflows/signals.js';
import { countWithDeltaRs, DEFAULT_CHURN, produceSteadily } from '../helpers/churn.js';
import { freePort, requireService, uniqueName } from '../helpers/stack.js';
import { spawnWorker, testClient, waitFor, type SpawnedWorker } from '../helpers/temporal.js';
import { tableRowCount } from './streamer-support.js';

const LOGS = 60_000;
const workers: SpawnedWorker[] = [];
let client: Client | undefined;

after(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  await client?.connection.close();
});

test('a pipeline of 3 streamers on 2 workers, one worker SIGKILLed twice: every offset exactly once', { timeout: 600_000 }, async (t) => {
  const config = await requireService('temporal');
  await requireService('kafka', config);
  const name = uniqueName('wfchurn');
  const deltaRoot = await mkdtemp(join(tmpdir(), 'wfchurn-delta-'));
  const env = {
    LOGSTREAM_KAFKA_TOPIC: name,
    LOGSTREAM_KAFKA_PARTITIONS: '6',
    LOGSTREAM_KAFKA_CONSUMER_GROUP: `${name}-group`,
    LOGSTREAM_KAFKA_DLQ_TOPIC: `${name}-dlq`,
    LOGSTREAM_KAFKA_ANOMALIES_TOPIC: `${name}-anomalies`,
    LOGSTREAM_DELTA_ROOT: deltaRoot,
    LOGSTREAM_ELASTICSEARCH_ENABLED: 'false',
    LOGSTREAM_TEMPORAL_TASK_QUEUE: `${name}-control`,
    LOGSTREAM_TEMPORAL_STREAMER_TASK_QUEUE: `${name}-streamers`,
    LOGSTREAM_TEMPORAL_MAX_STREAMERS_PER_WORKER: '2',
    LOGSTREAM_TEMPORAL_HEARTBEAT_TIMEOUT_SECONDS: '10',
    LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '500',
  };
  const spawn = async (identity: string) => spawnWorker(identity, { ...env, LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()) });
  workers.push(await spawn('worker-a'), await spawn('worker-b'));
  client = await testClient(config);
  const handle = await client.workflow.start('pipelineWorkflow', {
    taskQueue: env.LOGSTREAM_TEMPORAL_TASK_QUEUE,
    workflowId: name,
    args: [{ streamers: 3 }],
  });
  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  try {
    await kafka.ensureTopic(name, 6);
    const producing = produceSteadily(kafka, name, { ...DEFAULT_CHURN, logs: LOGS, produceSeconds: 60 });
    let committed = 0;
    for (let kill = 1; kill <= 2; kill += 1) {
      committed = await waitFor(
        `rows committed before kill ${kill}`,
        async () => {
          const rows = await tableRowCount(deltaRoot, 'logs');
          return rows > committed ? rows : undefined;
        },
        120_000,
      );
      const victim = workers.find((worker) => worker.identity === 'worker-a' && worker.child.exitCode === null)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      t.diagnostic(`kill ${kill}: worker-a SIGKILLed with ${committed} rows committed`);
      workers.push(await spawn('worker-a'));
    }
    await producing;
    const offsets = await kafka.topicOffsets(name);
    const total = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    await waitFor(
      'every message in logs or quarantine',
      async () => (await tableRowCount(deltaRoot, 'logs')) + (await tableRowCount(deltaRoot, 'quarantine')) >= total,
      240_000,
    );
    await handle.signal(stopSignal);
    await handle.result();
    const count = countWithDeltaRs(
      deltaRoot,
      Object.fromEntries(offsets.map((partition) => [partition.partition, Number(partition.high)])),
    );
    assert.equal(count.offsets, LOGS);
    assert.equal(count.duplicates, 0, 'no (partition, offset) twice');
    assert.equal(count.gaps, 0, 'no offset missing');
    assert.equal(count.overlap, 0);
    assert.equal(count.anomaliesMismatch, 0, 'anomalies are exactly the flagged logs rows');
  } finally {
    for (const topic of [name, `${name}-dlq`, `${name}-anomalies`]) await kafka.deleteTopic(topic).catch(() => undefined);
    await kafka.close();
  }
});
