// Exactly once at the Temporal level, as on several machines: two `logstream worker` processes with
// state directories of their own run one pipeline of three streamers on a 6-partition topic while
// logs are produced; one worker is SIGKILLed twice mid-run (and started again). On local disk, and
// on the stack's S3 store with the search engine on. delta-rs counts: every (partition, offset)
// once in logs or quarantine, and the search index holds the logs rows.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { createSearchClient } from '../../clients/search/index.js';
import { stopSignal } from '../../workflows/signals.js';
import { countWithDeltaRs, DEFAULT_CHURN, produceSteadily } from '../helpers/churn.js';
import { freePort, requireService, uniqueName } from '../helpers/stack.js';
import { deltaRsStorageOptions, storageCases } from '../helpers/storages.js';
import { pipelineEnv, spawnWorker, testClient, waitFor, type SpawnedWorker } from '../helpers/temporal.js';
import { tableRowCount } from './streamer-support.js';

const LOGS = 60_000;
const workers: SpawnedWorker[] = [];
let client: Client | undefined;

after(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  await client?.connection.close();
});

for (const storage of storageCases) {
  const search = storage.name === 's3';
  describe(`a pipeline on two workers (${storage.name}${search ? ', search on' : ''})`, () => {
    it('of 3 streamers, one worker SIGKILLed twice: every offset exactly once', { timeout: 600_000 }, async (t) => {
      const config = await requireService('temporal');
      await requireService('kafka', config);
      await storage.ready();
      if (search) await requireService('opensearch', config);
      const name = uniqueName('wfchurn');
      const deltaRoot = storage.scratch('wfchurn');
      const env = {
        ...storage.env,
        ...pipelineEnv(name, deltaRoot),
        LOGSTREAM_KAFKA_PARTITIONS: '6',
        LOGSTREAM_ELASTICSEARCH_ENABLED: String(search),
        LOGSTREAM_ELASTICSEARCH_INDEX_PREFIX: name,
        LOGSTREAM_TEMPORAL_MAX_STREAMERS_PER_WORKER: '2',
        LOGSTREAM_TEMPORAL_HEARTBEAT_TIMEOUT_SECONDS: '10',
        LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '500',
      };
      // Each worker a machine of its own: its own state and temp folders; the lakehouse and the services are shared.
      const spawn = async (identity: string) => {
        const home = mkdtempSync(join(tmpdir(), `${identity}-`));
        return spawnWorker(identity, {
          ...env,
          TMPDIR: home,
          LOGSTREAM_STACK_STATE_DIR: join(home, 'state'),
          LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()),
        });
      };
      workers.push(await spawn('worker-a'), await spawn('worker-b'));
      client ??= await testClient(config);
      const handle = await client.workflow.start('pipelineWorkflow', {
        taskQueue: env.LOGSTREAM_TEMPORAL_TASK_QUEUE,
        workflowId: name,
        args: [{ streamers: 3 }],
      });
      const kafka = createKafkaClient({ ...config.kafka, client_id: name });
      const searchClient = search ? createSearchClient({ elasticsearch: { ...config.elasticsearch, index_prefix: name } }) : undefined;
      try {
        await kafka.ensureTopic(name, 6);
        const producing = produceSteadily(kafka, name, { ...DEFAULT_CHURN, logs: LOGS, produceSeconds: 60 });
        let committed = 0;
        for (let kill = 1; kill <= 2; kill += 1) {
          committed = await waitFor(
            `rows committed before kill ${kill}`,
            async () => {
              const rows = await tableRowCount(deltaRoot, 'logs', storage.options);
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
          async () =>
            (await tableRowCount(deltaRoot, 'logs', storage.options)) + (await tableRowCount(deltaRoot, 'quarantine', storage.options)) >=
            total,
          240_000,
        );
        const logsRows = await tableRowCount(deltaRoot, 'logs', storage.options);
        if (searchClient) {
          await waitFor(
            'the search index to hold the logs rows',
            async () => {
              await searchClient.refresh(searchClient.logsIndexPattern);
              return (await searchClient.countDocuments(searchClient.logsIndexPattern)) >= logsRows;
            },
            240_000,
          );
        }
        await handle.signal(stopSignal);
        await handle.result();
        const count = countWithDeltaRs(
          deltaRoot,
          Object.fromEntries(offsets.map((partition) => [partition.partition, Number(partition.high)])),
          deltaRsStorageOptions(storage),
        );
        assert.equal(count.offsets, LOGS);
        assert.equal(count.duplicates, 0, 'no (partition, offset) twice');
        assert.equal(count.gaps, 0, 'no offset missing');
        assert.equal(count.overlap, 0);
        assert.equal(count.anomaliesMismatch, 0, 'anomalies are exactly the flagged logs rows');
        if (searchClient) {
          await searchClient.refresh(searchClient.logsIndexPattern);
          assert.equal(await searchClient.countDocuments(searchClient.logsIndexPattern), count.logsRows, 'search holds the logs rows');
        }
      } finally {
        await searchClient?.deleteIndices(searchClient.logsIndexPattern).catch(() => undefined);
        await searchClient?.close();
        for (const topic of [name, `${name}-dlq`, `${name}-anomalies`]) await kafka.deleteTopic(topic).catch(() => undefined);
        await kafka.close();
      }
    });
  });
}
