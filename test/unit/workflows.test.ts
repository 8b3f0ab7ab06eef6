// Pure logic of the orchestration: streamer reconciliation, continue-as-new decisions, status,
// settings resolution, health verdicts, schedule definitions and the status table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../config/schema.js';
import { heartbeatIntervalMs, resolveSettings } from '../../activities/settings.js';
import { heartbeatAgeCheck, lagCheck, summariseHealth } from '../../activities/healthLogic.js';
import { toProgressUpdate } from '../../activities/dependencies.js';
import { parseTrainOutput } from '../../activities/trainingProcess.js';
import { scheduleDefinitions, scheduleMatches } from '../../clients/temporal/schedules.js';
import { formatStatus } from '../../cli/commands/pipeline.js';
import {
  buildStatus,
  clampStreamers,
  continueAsNewInput,
  normaliseModelVersion,
  reconcileSlots,
  shouldContinueAsNew,
  targetStreamerCount,
  learningDecision,
  learningSummary,
  type ControlState,
} from '../../workflows/pipelineLogic.js';
import type { PipelineStatus } from '../../workflows/types.js';

const defaults = configSchema.parse({});
const control = (overrides: Partial<ControlState> = {}): ControlState => ({
  paused: false,
  stopping: false,
  desiredStreamers: 2,
  desiredModelVersion: 'champion',
  ...overrides,
});

describe('streamer reconciliation', () => {
  test('starts the lowest free slots when scaling up', () => {
    assert.deepEqual(reconcileSlots(3, [0]), { start: [1, 2], cancel: [] });
    assert.deepEqual(reconcileSlots(2, [1]), { start: [0], cancel: [] });
  });
  test('cancels the highest slots when scaling down', () => {
    assert.deepEqual(reconcileSlots(1, [0, 1, 2]), { start: [], cancel: [1, 2] });
  });
  test('cancels everything for a target of zero and does nothing when in line', () => {
    assert.deepEqual(reconcileSlots(0, [0, 1]), { start: [], cancel: [0, 1] });
    assert.deepEqual(reconcileSlots(2, [1, 0]), { start: [], cancel: [] });
  });
  test('pause, stop and draining for continue-as-new all mean no streamer', () => {
    assert.equal(targetStreamerCount(control(), false), 2);
    assert.equal(targetStreamerCount(control({ paused: true }), false), 0);
    assert.equal(targetStreamerCount(control({ stopping: true }), false), 0);
    assert.equal(targetStreamerCount(control(), true), 0);
  });
  test('streamer count is capped by the partitions and at least one', () => {
    assert.equal(clampStreamers(10, 3), 3);
    assert.equal(clampStreamers(0, 3), 1);
    assert.equal(clampStreamers(2.7, 3), 2);
    assert.equal(clampStreamers(Number.NaN, 3), 1);
  });
});

describe('continue-as-new', () => {
  test('happens when the server suggests it or the test knob is reached', () => {
    assert.equal(shouldContinueAsNew(true, 0), true);
    assert.equal(shouldContinueAsNew(false, 5), false);
    assert.equal(shouldContinueAsNew(false, 1, 2), false);
    assert.equal(shouldContinueAsNew(false, 2, 2), true);
    assert.equal(shouldContinueAsNew(false, 9, 0), false);
  });
  test('carries pause, scale, model and counters into the next input', () => {
    const next = continueAsNewInput(
      { topic: 'web-logs', runSeconds: 5, maxIterationsBeforeContinueAsNew: 2 },
      control({ paused: true, desiredStreamers: 3, desiredModelVersion: '7' }),
      12,
      1,
    );
    assert.deepEqual(next, {
      topic: 'web-logs',
      runSeconds: 5,
      maxIterationsBeforeContinueAsNew: 2,
      streamers: 3,
      paused: true,
      modelVersion: '7',
      runsCompleted: 12,
      continuedAsNewCount: 2,
    });
  });
});

describe('status', () => {
  test('aggregates slots and says paused only once every streamer stopped', () => {
    const progress = {
      runId: 'r1',
      partitions: [{ partition: 0, committedOffset: '41', lag: 3 }],
      rowsTotal: 42,
      batches: 2,
      rowsPerSecond: 10,
      reportedAt: '2026-01-01T00:00:00Z',
    };
    const running = buildStatus({
      control: control(),
      started: true,
      slots: [
        { slot: 1, state: 'starting' },
        { slot: 0, state: 'running', progress: { ...progress, slot: 0 } },
      ],
      topic: 'web-logs',
      partitions: 3,
      runsCompleted: 4,
      continuedAsNewCount: 1,
    });
    assert.equal(running.state, 'running');
    assert.equal(running.runningStreamers, 2);
    assert.deepEqual(
      running.streamers.map((streamer) => streamer.slot),
      [0, 1],
    );
    assert.equal(running.streamers[0]!.rowsTotal, 42);
    const draining = buildStatus({
      control: control({ paused: true }),
      started: true,
      slots: [{ slot: 0, state: 'stopping' }],
      runsCompleted: 0,
      continuedAsNewCount: 0,
    });
    assert.equal(draining.state, 'stopping');
    const paused = buildStatus({ control: control({ paused: true }), started: true, slots: [], runsCompleted: 0, continuedAsNewCount: 0 });
    assert.equal(paused.state, 'paused');
    assert.equal(
      buildStatus({ control: control(), started: false, slots: [], runsCompleted: 0, continuedAsNewCount: 0 }).state,
      'starting',
    );
  });
  test('model selectors are a positive version number or champion', () => {
    assert.equal(normaliseModelVersion('Champion'), 'champion');
    assert.equal(normaliseModelVersion(' 007 '), '7');
    assert.equal(normaliseModelVersion(3), '3');
    assert.throws(() => normaliseModelVersion('latest'), /positive number or "champion"/);
    assert.throws(() => normaliseModelVersion('0'), /positive number/);
  });
  test('the status table has one row per streamer with offsets, lag and model', () => {
    const status: PipelineStatus = {
      state: 'running',
      topic: 'web-logs',
      partitions: 3,
      desiredStreamers: 2,
      runningStreamers: 2,
      desiredModelVersion: 'champion',
      runsCompleted: 0,
      continuedAsNewCount: 0,
      streamers: [
        {
          slot: 0,
          state: 'running',
          partitions: [
            { partition: 0, committedOffset: '99', lag: 5 },
            { partition: 1, committedOffset: '10', lag: 0 },
          ],
          rowsTotal: 110,
          rowsPerSecond: 55.25,
          lastCommitAt: '2026-01-01T00:00:00Z',
          modelVersion: '4',
        },
        { slot: 1, state: 'starting' },
      ],
    };
    const lines = formatStatus('logstream-pipeline', status, new Date('2026-01-01T00:00:30Z')).split('\n');
    assert.match(lines[0]!, /^pipeline logstream-pipeline: running, 2\/2 streamer\(s\), topic web-logs \(3 partitions\)/);
    assert.match(lines[1]!, /^streamer\s+state\s+partition@offset\s+lag\s+rows\s+rows\/s\s+last commit\s+model/);
    assert.match(lines[2]!, /^0\s+running\s+0@99,1@10\s+5\s+110\s+55\.3\s+30s ago\s+4$/);
    assert.match(lines[3]!, /^1\s+starting\s+-\s+-\s+-\s+-\s+-\s+-$/);
  });
});

describe('pipeline settings', () => {
  test('fill the gaps of the input from the configuration', () => {
    const settings = resolveSettings({}, defaults);
    assert.deepEqual(settings, {
      traffic: 'site',
      learning: { rows: 5000, minutes: 60, checkSeconds: 60 },
      topic: 'web-logs',
      partitions: 3,
      streamers: 1,
      runSeconds: 3600,
      heartbeatTimeoutSeconds: 30,
      streamerTaskQueue: 'logstream-streamers',
      consumerGroup: 'logstream-streamers',
      progressIntervalSeconds: 10,
    });
  });
  test('never run more streamers than partitions; runSeconds wins over runMinutes', () => {
    const settings = resolveSettings({ streamers: 8, partitions: 4, runMinutes: 2, runSeconds: 30, topic: 'other' }, defaults);
    assert.equal(settings.streamers, 4);
    assert.equal(settings.runSeconds, 30);
    assert.equal(settings.topic, 'other');
    assert.equal(resolveSettings({ runMinutes: 2 }, defaults).runSeconds, 120);
  });
  test("a pipeline is on a site's own traffic unless told the traffic is generated", () => {
    assert.equal(resolveSettings({ traffic: 'generated' }, defaults).traffic, 'generated');
    assert.throws(() => resolveSettings({ traffic: 'real' as never }, defaults), /traffic must be "site" or "generated"/);
  });
  test('reject a non-positive number with the key named', () => {
    assert.throws(() => resolveSettings({ streamers: 0 }, defaults), /pipeline input streamers must be a positive number/);
    assert.throws(() => resolveSettings({ partitions: -1 }, defaults), /partitions/);
  });
  test('heartbeats come well inside the heartbeat timeout', () => {
    assert.equal(heartbeatIntervalMs(30), 5_000);
    assert.equal(heartbeatIntervalMs(10), 2_500);
    assert.equal(heartbeatIntervalMs(1), 500);
  });
});

describe('health', () => {
  test('overall is down on a failure, degraded on a warning, and ignores unknown checks', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    assert.equal(
      summariseHealth(
        [
          { name: 'a', status: 'ok', detail: '' },
          { name: 'b', status: 'unknown', detail: '' },
        ],
        now,
      ).overall,
      'ok',
    );
    assert.equal(summariseHealth([{ name: 'a', status: 'warn', detail: '' }], now).overall, 'degraded');
    assert.equal(
      summariseHealth(
        [
          { name: 'a', status: 'warn', detail: '' },
          { name: 'b', status: 'fail', detail: '' },
        ],
        now,
      ).overall,
      'down',
    );
  });
  test('the oldest heartbeat decides', () => {
    const now = 1_000_000;
    assert.equal(heartbeatAgeCheck([now - 5_000, now - 100_000], now, 90).status, 'fail');
    const fresh = heartbeatAgeCheck([now - 5_000, undefined], now, 90);
    assert.equal(fresh.status, 'ok');
    assert.equal(fresh.value, 5);
    assert.equal(heartbeatAgeCheck([], now, 90).status, 'warn');
  });
  test('lag is summed over the partitions the streamers reported', () => {
    const status = {
      streamers: [
        {
          slot: 0,
          state: 'running',
          partitions: [
            { partition: 0, lag: 7 },
            { partition: 1, lag: 3 },
          ],
        },
      ],
    } as PipelineStatus;
    assert.deepEqual(lagCheck(status), { name: 'kafka-lag', status: 'ok', detail: '10 messages behind over 2 partition(s)', value: 10 });
    assert.equal(lagCheck(status, 5).status, 'warn');
    assert.equal(lagCheck({ streamers: [] } as unknown as PipelineStatus).status, 'unknown');
  });
  test('streamer progress becomes per-partition offsets and lag', () => {
    const update = toProgressUpdate(
      {
        committedOffsets: { 0: '99', 2: '-1' },
        counters: {
          messages: 0,
          committedRows: 100,
          quarantined: 0,
          anomalies: 0,
          batches: 3,
          duplicateBatches: 0,
          searchIndexed: 0,
          searchFailures: 0,
          searchBacklog: 0,
        },
        rowsPerSecond: 12.5,
        lastCommitTimeMs: Date.parse('2026-01-01T00:00:00Z'),
        modelVersion: '2',
      },
      new Map([
        [0, 150n],
        [2, 10n],
      ]),
    );
    assert.deepEqual(update.partitions, [
      { partition: 0, committedOffset: '99', lag: 50 },
      { partition: 2, committedOffset: '-1', lag: 10 },
    ]);
    assert.equal(update.lastCommitAt, '2026-01-01T00:00:00.000Z');
    assert.equal(update.rowsTotal, 100);
  });
});

describe('schedules', () => {
  test('come from the configured intervals, rounded to whole seconds', () => {
    const config = configSchema.parse({
      ml: { retrain_interval_hours: 12 },
      schedules: { health_check_interval_minutes: 0.5, maintenance_interval_hours: 6 },
    });
    const definitions = scheduleDefinitions(config);
    assert.deepEqual(
      definitions.map((definition) => [definition.scheduleId, definition.workflowType, definition.intervalMs]),
      [
        ['logstream-training', 'trainingWorkflow', 12 * 3_600_000],
        ['logstream-health-check', 'healthCheckWorkflow', 30_000],
        ['logstream-maintenance', 'maintenanceWorkflow', 6 * 3_600_000],
      ],
    );
    assert.equal(scheduleDefinitions(configSchema.parse({ ml: { retrain_interval_hours: 0.0001 } }))[0]!.intervalMs, 1_000);
  });
  test('an unchanged schedule matches its definition, a changed one does not', () => {
    const [definition] = scheduleDefinitions(defaults, 'test-');
    const description = {
      spec: { intervals: [{ every: definition!.intervalMs, offset: 0 }] },
      action: { type: 'startWorkflow', workflowType: definition!.workflowType, taskQueue: definition!.taskQueue, args: [{}] },
    } as unknown as Parameters<typeof scheduleMatches>[0];
    assert.equal(scheduleMatches(description, definition!), true);
    assert.equal(scheduleMatches(description, { ...definition!, intervalMs: 60_000 }), false);
    assert.equal(scheduleMatches(description, { ...definition!, taskQueue: 'elsewhere' }), false);
  });
});

describe('training', () => {
  test('reads the outcome from `logstream train --json`', () => {
    const stdout =
      'some progress\n{"k":3,"trainingRows":2000,"holdout":{"f1":0.9,"precision":0.8,"recall":1,"falsePositiveRate":0.01,"perScenario":{"scan":{"recall":1}}},"version":"4","promotion":{"promoted":true,"reason":"no champion yet"}}\n';
    assert.deepEqual(parseTrainOutput(stdout), {
      promoted: true,
      reason: 'no champion yet',
      version: '4',
      metrics: { f1: 0.9, precision: 0.8, recall: 1, falsePositiveRate: 0.01, trainingRows: 2000 },
    });
    assert.throws(() => parseTrainOutput('Error: boom'), /printed no JSON result/);
    assert.throws(() => parseTrainOutput('{"trainingRows":1,"holdout":{}}'), /did not register/);
  });
});

describe('learning first', () => {
  const settings = { rows: 5000, minutes: 60, checkSeconds: 60 };
  const progress = (rows: number, minutes: number, championUsable = false) => ({ rows, minutes, championUsable });
  const now = Date.parse('2026-12-01T12:00:00Z');

  test('scores with a usable champion, learns until the thresholds, then trains once', () => {
    assert.equal(learningDecision(progress(10, 1, true), settings, undefined, now), 'scoring');
    assert.equal(learningDecision(progress(4999, 600), settings, undefined, now), 'learning');
    assert.equal(learningDecision(progress(50_000, 59), settings, undefined, now), 'learning');
    assert.equal(learningDecision(progress(5000, 60), settings, undefined, now), 'train');
    const running = { workflowId: 'w', startedAt: '2026-12-01T11:59:00Z', rows: 5000 };
    assert.equal(learningDecision(progress(6000, 70), settings, running, now), 'learning', 'one training at a time');
  });

  test('after a candidate the gate refused, trains again when the traffic doubled or an hour passed', () => {
    const refused = { workflowId: 'w', startedAt: '2026-12-01T11:30:00Z', finishedAt: '2026-12-01T11:40:00Z', rows: 5000, promoted: false };
    assert.equal(learningDecision(progress(9000, 90), settings, refused, now), 'learning');
    assert.equal(learningDecision(progress(10_000, 90), settings, refused, now), 'train');
    assert.equal(learningDecision(progress(9000, 90), settings, refused, now + 3_600_000), 'train');
  });

  test('the status says how far learning is', () => {
    const status = { state: 'learning' as const, rows: 3200, rowsNeeded: 5000, minutes: 41.7, minutesNeeded: 60 };
    assert.equal(learningSummary(status), 'learning (3,200 of 5,000 rows, 41 of 60 minutes)');
    assert.equal(learningSummary({ ...status, state: 'scoring' }), undefined);
  });
});
