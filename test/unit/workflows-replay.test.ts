// Replay determinism without a server: every recorded history under test/fixtures/histories
// (written by the integration tests with RECORD_HISTORIES=1) replays against today's workflow code.
// A change that makes old histories non-deterministic fails here before it reaches a running pipeline.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import protoPackage from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { HISTORY_FIXTURES, workflowBundle } from '../helpers/temporal.js';

const { temporal } = protoPackage;
Runtime.install({ logger: new DefaultLogger('WARN') });

const fixtures = readdirSync(HISTORY_FIXTURES)
  .filter((name) => name.endsWith('.history.bin'))
  .sort();

test('recorded histories exist for every workflow type', () => {
  const types = new Set(
    fixtures.map((name) => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(HISTORY_FIXTURES, name)));
      return history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    }),
  );
  assert.deepEqual([...types].sort(), ['healthCheckWorkflow', 'maintenanceWorkflow', 'pipelineWorkflow', 'trainingWorkflow']);
});

test('every recorded history replays deterministically', { timeout: 120_000 }, async () => {
  const histories = fixtures.map((name) => ({
    workflowId: name.replace(/\.history\.bin$/, ''),
    history: temporal.api.history.v1.History.decode(readFileSync(join(HISTORY_FIXTURES, name))),
  }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(histories.length, fixtures.length);
});
