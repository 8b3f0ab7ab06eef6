// Rolling out a new worker version with Temporal worker deployments, as docs/deployment.md says: a
// worker of build v1 and then one of build v2 join the same deployment; an operator makes each the
// current version with the stock CLI, and new workflow runs go to the current one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { stackPaths } from '../../infra/stack/manager.js';
import { freePort, requireService, uniqueName } from '../helpers/stack.js';
import { spawnWorker, testClient, waitFor, type SpawnedWorker } from '../helpers/temporal.js';

const workers: SpawnedWorker[] = [];
let client: Client | undefined;

after(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((worker) => worker.exited));
  await client?.connection.close();
});

test('workers of a new build take new workflow runs once their version is current', { timeout: 300_000 }, async () => {
  const config = await requireService('temporal');
  const name = uniqueName('versioning');
  const temporal = join(stackPaths(config).cacheDir, 'temporal', 'bin', 'temporal');
  const env = {
    LOGSTREAM_TEMPORAL_TASK_QUEUE: `${name}-control`,
    LOGSTREAM_TEMPORAL_STREAMER_TASK_QUEUE: `${name}-streamers`,
    LOGSTREAM_TEMPORAL_DEPLOYMENT_NAME: name,
    LOGSTREAM_DELTA_ROOT: mkdtempSync(join(tmpdir(), `${name}-`)),
  };
  const setCurrent = (buildId: string) => {
    const result = spawnSync(
      temporal,
      [
        'worker',
        'deployment',
        'set-current-version',
        '--deployment-name',
        name,
        '--build-id',
        buildId,
        '--yes',
        '--address',
        config.temporal.address,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
  };
  client = await testClient(config);
  const runOn = async (buildId: string) => {
    const handle = await client!.workflow.start('maintenanceWorkflow', {
      taskQueue: env.LOGSTREAM_TEMPORAL_TASK_QUEUE,
      workflowId: `${name}-${buildId}`,
      args: [{}],
    });
    await handle.result();
    const description = await handle.describe();
    return description.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
  };

  for (const buildId of ['v1', 'v2']) {
    workers.push(
      await spawnWorker(`${name}-${buildId}`, {
        ...env,
        LOGSTREAM_TEMPORAL_BUILD_ID: buildId,
        LOGSTREAM_PROMETHEUS_METRICS_PORT: String(await freePort()),
      }),
    );
    // The version exists once its worker polls: then it can be made current.
    await waitFor(
      'the version to register',
      () => {
        try {
          setCurrent(buildId);
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      1000,
    );
    assert.equal(await runOn(buildId), buildId, `a new run goes to the current version ${buildId}`);
  }
});
