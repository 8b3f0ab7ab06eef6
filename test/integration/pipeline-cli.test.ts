// What a user sees from the control commands when something is missing: Temporal down,
// no pipeline, no worker. Runs the real `logstream` entry point against the real server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { connectClient, closeClient } from '../../clients/temporal/connection.js';
import { freePort, requireService, uniqueName } from '../helpers/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function logstream(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['bin/logstream.js', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('an unreachable Temporal is named, with the way to start it', { timeout: 60_000 }, async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const result = logstream(['status'], { LOGSTREAM_TEMPORAL_ADDRESS: address });
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`^logstream: cannot reach Temporal at ${address}`));
  assert.match(result.stderr, /logstream stack up/);
  assert.doesNotMatch(result.stderr, / {4}at /, 'no stack trace without --debug');
});

test('status, pause and stop without a running pipeline say so and suggest start', { timeout: 60_000 }, async () => {
  await requireService('temporal');
  const id = uniqueName('no-such-pipeline');
  for (const command of ['status', 'pause', 'stop']) {
    const result = logstream([command, '--id', id]);
    assert.equal(result.code, 1, command);
    assert.equal(result.stderr, `logstream: no pipeline is running with workflow id ${id}\n  start one with \`logstream start\`\n`);
  }
});

test('start without a worker on the task queue fails fast instead of queueing work', { timeout: 60_000 }, async () => {
  await requireService('temporal');
  const taskQueue = uniqueName('nobody-polls');
  const result = logstream(['start', '--id', uniqueName('pipeline')], { LOGSTREAM_TEMPORAL_TASK_QUEUE: taskQueue });
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`no logstream worker polls task queue ${taskQueue}`));
  assert.match(result.stderr, /logstream worker/);
});

test('status of a pipeline whose worker is gone names the task queue nobody polls and the fix', { timeout: 60_000 }, async () => {
  const config = await requireService('temporal');
  const client = await connectClient(config.temporal);
  const taskQueue = uniqueName('nobody-polls');
  const workflowId = uniqueName('pipeline-without-worker');
  const handle = await client.workflow.start('pipelineWorkflow', { taskQueue, workflowId, args: [{}] });
  try {
    const result = logstream(['status', '--id', workflowId]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      `logstream: the pipeline workflow ${workflowId} exists, but no worker polls task queue ${taskQueue}, so nothing can answer\n` +
        '  start one with `logstream worker` (it keeps running; use another terminal), or run everything with `npm start`\n',
    );
  } finally {
    await handle.terminate('test done').catch(() => undefined);
    await closeClient(client);
  }
});

test('bad arguments are usage errors (exit 2)', () => {
  const scale = logstream(['scale', 'two']);
  assert.equal(scale.code, 2);
  assert.match(scale.stderr, /N must be a positive whole number, got "two"/);
  const reload = logstream(['reload-model', 'latest']);
  assert.equal(reload.code, 2);
  assert.match(reload.stderr, /model version must be a positive number or "champion"/);
});
