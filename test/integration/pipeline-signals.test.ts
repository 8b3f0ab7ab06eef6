// pipelineWorkflow against the real Temporal server: pause / resume / scale / reloadModel / stop
// change what runs, `status` reflects it, no row is lost or doubled, and the history replays.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { pauseSignal, reloadModelSignal, resumeSignal, scaleSignal, statusQuery, stopSignal } from '../../workflows/signals.js';
import type { PipelineStatus } from '../../workflows/types.js';
import type { ActivityDependencies } from '../../activities/ports.js';
import { SimulatedLog } from '../helpers/simulatedStreamer.js';
import { replayRecorded, startWorkers, testClient, testConfig, uniqueId, waitFor } from '../helpers/temporal.js';

const PARTITIONS = 3;
const config = testConfig('signals', {
  kafka: { partitions: PARTITIONS },
  temporal: { heartbeat_timeout_seconds: 10, max_streamers_per_worker: 4 },
});
const log = new SimulatedLog(PARTITIONS);
let client: Client;
let stopWorkers: () => Promise<void>;

function dependencies(): ActivityDependencies {
  const unused = async () => {
    throw new Error('not used by this test');
  };
  return {
    config,
    streamer: log.runner(),
    resources: { ensureResources: async () => undefined },
    health: {},
    maintenance: { listTables: unused, maintainTable: unused },
    trainer: { train: unused },
    learning: { progress: async () => ({ championUsable: true, rows: 0, minutes: 0 }) },
  };
}

before(async () => {
  client = await testClient(config);
  ({ stop: stopWorkers } = await startWorkers(dependencies()));
});

after(async () => {
  await stopWorkers?.();
  await client?.connection.close();
});

test('signals change the running streamers and status reflects them', { timeout: 180_000 }, async () => {
  const workflowId = uniqueId('pipeline-signals');
  const handle = await client.workflow.start('pipelineWorkflow', {
    taskQueue: config.temporal.task_queue,
    workflowId,
    args: [{ streamers: 2, runSeconds: 120 }],
  });
  const startedAt = Date.now();
  const status = () => handle.query(statusQuery);
  const until = (what: string, accept: (current: PipelineStatus) => boolean, timeoutMs = 30_000) =>
    waitFor(
      what,
      async () => {
        const current = await status();
        return accept(current) ? current : undefined;
      },
      timeoutMs,
    ).finally(() => process.env.TEST_TIMING && console.error(`${what}: ${Date.now() - startedAt} ms`));

  log.produce(200);
  const running = await until(
    'two running streamers',
    (current) => current.state === 'running' && current.streamers.filter((streamer) => streamer.state === 'running').length === 2,
  );
  assert.equal(running.desiredStreamers, 2);
  assert.equal(running.partitions, PARTITIONS);
  await waitFor('every produced row in the table', () => log.table.rows.length === log.producedTotal);

  await handle.signal(pauseSignal);
  const paused = await until('paused', (current) => current.state === 'paused');
  assert.equal(paused.runningStreamers, 0);
  assert.equal(log.running, 0, 'no streamer runs while paused');
  const rowsWhilePaused = log.table.rows.length;
  log.produce(100);

  await handle.signal(resumeSignal);
  await until('running again', (current) => current.state === 'running' && current.runningStreamers === 2);
  await waitFor('rows produced while paused arrive after resume', () => log.table.rows.length === log.producedTotal);
  assert.ok(log.table.rows.length > rowsWhilePaused);

  await handle.signal(scaleSignal, 10);
  const scaled = await until(
    'scaled to the partition count',
    (current) => current.streamers.filter((streamer) => streamer.state === 'running').length === PARTITIONS,
  );
  assert.equal(scaled.desiredStreamers, PARTITIONS, 'scale is capped at the partition count');
  await handle.signal(scaleSignal, 1);
  await until('scaled down to one', (current) => current.runningStreamers === 1 && current.streamers.length === 1);
  await waitFor('one streamer process left', () => log.running === 1);

  const batchesBeforeReload = log.modelVersions.length;
  await handle.signal(reloadModelSignal, '7');
  await until(
    'streamer reports model 7',
    (current) => current.desiredModelVersion === '7' && current.streamers.every((streamer) => streamer.modelVersion === '7'),
  );
  assert.equal(log.running, 1, 'the model is swapped without restarting the streamer');
  log.produce(100);
  await waitFor('new batches scored with model 7', () => log.table.rows.length === log.producedTotal);
  assert.ok(log.modelVersions.length > batchesBeforeReload);
  assert.equal(log.modelVersions.at(-1), '7');

  await handle.signal(stopSignal);
  const final = (await handle.result()) as PipelineStatus;
  assert.equal(final.state, 'stopped');
  assert.equal(log.running, 0);
  assert.equal(log.table.rows.length, log.producedTotal, 'no row lost');
  assert.equal(log.duplicateRows(), 0, 'no row doubled');

  // Replay determinism: the recorded history replays against the same bundle.
  await replayRecorded(client, workflowId, undefined, 'pipeline-signals');
});
