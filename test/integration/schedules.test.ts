// Schedules against the real stack: `apply` is idempotent; short intervals fire a training run
// (real Delta rows, real MLflow) whose promoted model reaches the running streamers through
// reloadModel, and a maintenance run that compacts and checkpoints every table.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { loadDependencies } from '../../activities/dependencies.js';
import { createKafkaClient } from '../../clients/kafka/index.js';
import {
  applySchedules,
  deleteSchedules,
  listSchedules,
  pauseSchedules,
  resumeSchedules,
  scheduleDefinitions,
} from '../../clients/temporal/schedules.js';
import { statusQuery, stopSignal } from '../../workflows/signals.js';
import type { HealthReport, MaintenanceReport, TrainingReport } from '../../workflows/types.js';
import { requireService, uniqueName } from '../helpers/stack.js';
import { replayRecorded, startWorkers, testClient, testConfig, waitFor } from '../helpers/temporal.js';
import { generatedMessages, produce, tableRowCount } from './streamer-support.js';

const cleanups: Array<() => Promise<unknown>> = [];

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

test('schedules fire training and maintenance; the promoted model reaches the running streamers', { timeout: 420_000 }, async (t) => {
  await requireService('temporal');
  await requireService('kafka');
  await requireService('mlflow');
  const name = uniqueName('sched');
  const config = testConfig('sched', {
    kafka: { topic: name, partitions: 1, consumer_group: `${name}-group`, dlq_topic: `${name}-dlq`, anomalies_topic: `${name}-anomalies` },
    delta: { root: await mkdtemp(join(tmpdir(), 'sched-delta-')) },
    elasticsearch: { enabled: false },
    streaming: { batch_max_wait_ms: 300 },
    mlflow: { registered_model: `${name}-model`, experiment: `${name}-experiment` },
    // The gate judges on about 500 held-out rows here, so the default 2% budget is 10 false
    // positives: runs flagged 3 to 8, and one CI run more than 10. This test checks that a scheduled
    // run's promotion reaches the streamers; the gate has tests of its own (own-traffic-gate, inject).
    ml: { training_samples: 2000, k_max: 4, retrain_interval_hours: 20 / 3600, gate_false_positive_budget: 0.1 },
    schedules: { maintenance_interval_hours: 20 / 3600, health_check_interval_minutes: 60 },
  });
  const { stop } = await startWorkers(loadDependencies(config));
  cleanups.push(stop);
  const client: Client = await testClient(config);
  cleanups.push(() => client.connection.close());
  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  cleanups.push(() => kafka.close());

  // A running pipeline with rows in Delta to train on.
  const pipeline = await client.workflow.start('pipelineWorkflow', {
    taskQueue: config.temporal.task_queue,
    workflowId: `${name}-pipeline`,
    // The generator's traffic: the model trained on it may score it.
    args: [{ streamers: 1, traffic: 'generated' }],
  });
  cleanups.push(() => pipeline.signal(stopSignal).then(() => pipeline.result()));
  await produce(kafka, name, generatedMessages(2500, 21));
  await waitFor('rows in Delta', async () => (await tableRowCount(config.delta.root, 'logs')) >= 2500, 90_000);

  const definitions = scheduleDefinitions(config, `${name}-`);
  cleanups.push(() =>
    deleteSchedules(
      client,
      definitions.map((definition) => definition.scheduleId),
    ),
  );
  assert.deepEqual(
    (await applySchedules(client, definitions)).map((result) => result.outcome),
    ['created', 'created', 'created'],
  );
  assert.deepEqual(
    (await applySchedules(client, definitions)).map((result) => result.outcome),
    ['unchanged', 'unchanged', 'unchanged'],
  );
  const listed = await listSchedules(client, `${name}-`);
  assert.deepEqual(listed.map((schedule) => schedule.workflowType).sort(), [
    'healthCheckWorkflow',
    'maintenanceWorkflow',
    'trainingWorkflow',
  ]);

  const firstRun = async (scheduleId: string) =>
    waitFor(
      `a run of ${scheduleId}`,
      async () => {
        const action = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action;
        return action?.type === 'startWorkflow' ? action.workflow : undefined;
      },
      60_000,
    );
  const [trainingRun, maintenanceRun] = await Promise.all([firstRun(`${name}-training`), firstRun(`${name}-maintenance`)]);

  const maintenance = (await client.workflow
    .getHandle(maintenanceRun.workflowId, maintenanceRun.firstExecutionRunId)
    .result()) as MaintenanceReport;
  assert.deepEqual(maintenance.tables.map((table) => table.table.split('/').at(-1)).sort(), [
    'anomalies',
    'logs',
    'metrics_1m',
    'quarantine',
  ]);
  assert.ok(maintenance.tables.every((table) => table.checkpointVersion !== undefined));

  const training = (await client.workflow.getHandle(trainingRun.workflowId, trainingRun.firstExecutionRunId).result()) as TrainingReport;
  t.diagnostic(
    `training: version ${training.version}, promoted ${training.promoted} (${training.reason}), f1 ${training.metrics?.f1}; maintenance: ${maintenance.tables.length} tables`,
  );
  assert.equal(training.promoted, true, `the first model of a fresh registered model becomes champion; the gate said: ${training.reason}`);
  assert.ok(training.pipelinesSignalled.includes(pipeline.workflowId));

  // New rows after the signal are scored by the promoted version, without a streamer restart.
  let seed = 100;
  const status = await waitFor(
    'streamer scoring with the promoted model',
    async () => {
      seed += 1;
      await produce(kafka, name, generatedMessages(50, seed));
      const current = await pipeline.query(statusQuery);
      return current.desiredModelVersion === training.version && current.streamers[0]?.modelVersion === training.version
        ? current
        : undefined;
    },
    120_000,
    1_000,
  );
  assert.equal(status.runsCompleted, 0, 'the streamer was not restarted');

  // An on-demand health check sees the streamer's fresh heartbeat and the services up.
  const healthId = `${name}-health`;
  const health = (await client.workflow.execute('healthCheckWorkflow', {
    taskQueue: config.temporal.task_queue,
    workflowId: healthId,
    args: [{ pipelineWorkflowId: pipeline.workflowId }],
  })) as HealthReport;
  const checks = Object.fromEntries(health.checks.map((check) => [check.name, check.status]));
  assert.equal(checks['streamer-heartbeats'], 'ok');
  assert.equal(checks.kafka, 'ok');
  assert.equal(checks['delta-freshness'], 'ok');
  assert.equal(checks.mlflow, 'ok');
  assert.equal(checks['search-engine'], 'unknown', 'search is disabled in this test');

  // Pause and resume: a schedule paused on purpose stays paused when `logstream up` resumes its own.
  const ids = definitions.map((definition) => definition.scheduleId);
  const states = async () => (await listSchedules(client, `${name}-`)).map((schedule) => schedule.paused);
  assert.deepEqual(await pauseSchedules(client, ids, 'paused by the test'), ids);
  assert.deepEqual(await states(), [true, true, true]);
  assert.deepEqual(await pauseSchedules(client, ids, 'again'), [], 'already paused');
  assert.deepEqual(await resumeSchedules(client, ids, 'resumed', 'paused by someone else'), [], 'only schedules paused with that note');
  assert.deepEqual(await resumeSchedules(client, ids, 'resumed', 'paused by the test'), ids);
  assert.deepEqual(await states(), [false, false, false]);

  // Replay determinism of each workflow type run here.
  await replayRecorded(client, trainingRun.workflowId, trainingRun.firstExecutionRunId, 'training');
  await replayRecorded(client, maintenanceRun.workflowId, maintenanceRun.firstExecutionRunId, 'maintenance');
  await replayRecorded(client, healthId, undefined, 'health-check');
});
