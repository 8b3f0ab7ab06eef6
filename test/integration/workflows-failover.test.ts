// Two `logstream worker` processes; the one running the streamer is killed with SIGKILL.
// The streamer activity must resume on the other worker within the heartbeat timeout and the
// Delta logs table must end with exactly the produced rows: none lost, none twice.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { statusQuery, stopSignal } from '../../workflows/signals.js';
import { freePort, requireService, uniqueName } from '../helpers/stack.js';
import { pipelineEnv, spawnWorker, testClient, waitFor, type SpawnedWorker } from '../helpers/temporal.js';
import { generatedMessages, produce, tableKeys, tableRowCount } from './streamer-support.js';

const HEARTBEAT_TIMEOUT_SECONDS = 10;
const workers: SpawnedWorker[] = [];
let client: Client | undefined;

after(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((worker) => worker.exited));
  await client?.connection.close();
});

test('a SIGKILLed worker’s streamer resumes on the other worker, exactly once', { timeout: 300_000 }, async (t) => {
  const config = await requireService('temporal');
  await requireService('kafka', config);
  const name = uniqueName('failover');
  const deltaRoot = await mkdtemp(join(tmpdir(), 'failover-delta-'));
  const env = {
    ...pipelineEnv(name, deltaRoot),
    LOGSTREAM_KAFKA_PARTITIONS: '2',
    LOGSTREAM_ELASTICSEARCH_ENABLED: 'false',
    LOGSTREAM_TEMPORAL_MAX_STREAMERS_PER_WORKER: '1',
    LOGSTREAM_TEMPORAL_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_SECONDS),
    LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '300',
  };
  workers.push(await spawnWorker('worker-a', { ...env, LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()) }));
  workers.push(await spawnWorker('worker-b', { ...env, LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()) }));

  client = await testClient(config);
  const handle = await client.workflow.start('pipelineWorkflow', {
    taskQueue: env.LOGSTREAM_TEMPORAL_TASK_QUEUE,
    workflowId: name,
    args: [{ streamers: 1 }],
  });
  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  try {
    const firstHalf = generatedMessages(2000, 11);
    await produce(kafka, name, firstHalf);
    await waitFor('first rows in Delta', async () => (await tableRowCount(deltaRoot, 'logs')) > 0, 60_000);

    const runningOn = await waitFor('the streamer activity has a worker', async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.find((activity) => activity.lastWorkerIdentity)?.lastWorkerIdentity ?? undefined;
    });
    const victim = workers.find((worker) => worker.identity === runningOn)!;
    const survivor = workers.find((worker) => worker !== victim)!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();

    const secondHalf = generatedMessages(2000, 12);
    await produce(kafka, name, secondHalf);
    const produced = firstHalf.length + secondHalf.length;

    await waitFor(
      'the streamer running on the surviving worker',
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        return pending.some((activity) => activity.lastWorkerIdentity === survivor.identity && activity.attempt! > 1);
      },
      (HEARTBEAT_TIMEOUT_SECONDS + 20) * 1000,
    );
    const resumedAfterMs = Date.now() - killedAt;
    t.diagnostic(
      `streamer killed on ${victim.identity}, running again on ${survivor.identity} after ${resumedAfterMs} ms (heartbeat timeout ${HEARTBEAT_TIMEOUT_SECONDS} s)`,
    );
    await waitFor('every produced row in Delta', async () => (await tableRowCount(deltaRoot, 'logs')) >= produced, 120_000);

    await handle.signal(stopSignal);
    await handle.result();
    const keys = await tableKeys(deltaRoot, 'logs');
    assert.equal(keys.length, produced, 'rows in the logs table');
    assert.equal(new Set(keys).size, produced, 'no (partition, offset) twice');
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status) assert.equal(status.state, 'stopped');
    assert.ok(resumedAfterMs < (HEARTBEAT_TIMEOUT_SECONDS + 20) * 1000, `resumed after ${resumedAfterMs} ms`);
  } finally {
    await kafka.close();
  }
});
