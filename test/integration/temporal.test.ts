// The stack's Temporal dev server: a workflow bundled from TypeScript runs on an in-process worker.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as activities from './fixtures/greetingActivities.js';
import { requireService, uniqueName } from '../helpers/stack.js';

// Worker lifecycle lines at INFO would bury the test report.
Runtime.install({ logger: new DefaultLogger('WARN') });

test('a workflow started through @temporalio/client completes on a worker connected with NativeConnection', {
  timeout: 120_000,
}, async () => {
  const config = await requireService('temporal');
  const taskQueue = uniqueName('stack-test-queue');
  const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection: workerConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/greetingWorkflow.ts', import.meta.url)),
    activities,
  });
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start('greetingWorkflow', {
        taskQueue,
        workflowId: uniqueName('stack-test-workflow'),
        args: ['stack'],
      });
      return handle.result();
    });
    assert.equal(result, 'hello, stack');
  } finally {
    await connection.close();
    await workerConnection.close();
  }
});
