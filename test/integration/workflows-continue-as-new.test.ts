// Continue-as-new under load with the real streamer, Kafka and Delta: the pipeline drains its
// streamers, continues as new (forced by the maxIterationsBeforeContinueAsNew test knob) while
// logs keep arriving, and the logs table ends with every produced row exactly once.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import type { Client } from '@temporalio/client';
import { loadDependencies } from '../../activities/dependencies.js';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { statusQuery, stopSignal } from '../../workflows/signals.js';
import type { PipelineStatus } from '../../workflows/types.js';
import { requireService, uniqueName } from '../helpers/stack.js';
import { replayRecorded, startWorkers, testClient, testConfig, waitFor } from '../helpers/temporal.js';
import { generatedMessages, produce, tableKeys, tableRowCount, topicMessageCount } from './streamer-support.js';

let client: Client | undefined;
const stops: Array<() => Promise<void>> = [];

after(async () => {
  for (const stop of stops) await stop();
  await client?.connection.close();
});

test('continue-as-new under load loses and doubles no row (one streamer)', { timeout: 300_000 }, (t) => continueAsNewUnderLoad(t, 1));
// With two streamers, rebalances during the restarts move partitions mid-batch: a batch that started
// before the move must not commit over rows the partition's new owner committed meanwhile.
test('continue-as-new under load loses and doubles no row (two streamers)', { timeout: 300_000 }, (t) => continueAsNewUnderLoad(t, 2));

async function continueAsNewUnderLoad(t: TestContext, streamers: number): Promise<void> {
  await requireService('temporal');
  await requireService('kafka');
  const name = uniqueName('can');
  const config = testConfig('can', {
    kafka: { topic: name, partitions: 2, consumer_group: `${name}-group`, dlq_topic: `${name}-dlq`, anomalies_topic: `${name}-anomalies` },
    delta: { root: await mkdtemp(join(tmpdir(), 'can-delta-')) },
    elasticsearch: { enabled: false },
    streaming: { batch_max_wait_ms: 300 },
    temporal: { heartbeat_timeout_seconds: 10, max_streamers_per_worker: 2 },
  });
  const { stop } = await startWorkers(loadDependencies(config));
  stops.push(stop);
  client ??= await testClient(config);
  const handle = await client.workflow.start('pipelineWorkflow', {
    taskQueue: config.temporal.task_queue,
    workflowId: name,
    args: [{ streamers, runSeconds: 6, maxIterationsBeforeContinueAsNew: 2 }],
  });
  const firstRunId = handle.firstExecutionRunId;
  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  let produced = 0;
  let status: PipelineStatus | undefined;
  try {
    // Keep producing while the pipeline restarts runs and continues as new, until it did so twice.
    for (let chunk = 0; ; chunk += 1) {
      const messages = generatedMessages(300, 100 + chunk);
      await produce(kafka, name, messages);
      produced += messages.length;
      status = await handle.query(statusQuery).catch(() => status);
      if (status && status.continuedAsNewCount >= 2) break;
      assert.ok(chunk < 200, 'the pipeline continued as new twice within 200 chunks');
      await new Promise((resolve) => setTimeout(resolve, 500)); // production pacing, not synchronisation
    }
    await waitFor(
      'every message of the topic in Delta',
      async () => (await tableRowCount(config.delta.root, 'logs')) >= (await topicMessageCount(kafka, name)),
      120_000,
    );
    await handle.signal(stopSignal);
    const final = (await client.workflow.getHandle(name).result()) as PipelineStatus;
    const keys = await tableKeys(config.delta.root, 'logs');
    const inTopic = await topicMessageCount(kafka, name);
    t.diagnostic(
      `${produced} produced, ${inTopic} in the topic, ${keys.length} rows (${new Set(keys).size} distinct), continued as new ${final.continuedAsNewCount}×, ${final.runsCompleted} streamer runs`,
    );
    assert.ok(final.continuedAsNewCount >= 2);
    // The topic is the truth: a producer retry may append a message twice, the pipeline must not.
    assert.ok(inTopic >= produced);
    assert.equal(new Set(keys).size, keys.length, 'no row doubled');
    assert.equal(keys.length, inTopic, 'no row lost');

    // Replay determinism of the first run, which ended in continue-as-new.
    await replayRecorded(client, name, firstRunId, `pipeline-continue-as-new-${streamers}`);
  } finally {
    await kafka.close();
  }
}
