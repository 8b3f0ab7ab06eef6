// The stack's MLflow server over REST: experiment, run, metric, and an artifact through the artifact proxy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireService, uniqueName } from '../helpers/stack.js';

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

test('an experiment, run, metric and artifact written over REST read back the same', async () => {
  const config = await requireService('mlflow');
  const base = config.mlflow.tracking_uri.replace(/\/$/, '');
  const experimentName = uniqueName('stack-test-experiment');

  const { experiment_id: experimentId } = await call<{ experiment_id: string }>(base, 'POST', '/api/2.0/mlflow/experiments/create', {
    name: experimentName,
  });
  const { run } = await call<{ run: { info: { run_id: string; artifact_uri: string } } }>(base, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    start_time: Date.now(),
    run_name: 'stack-test',
  });
  const runId = run.info.run_id;
  await call(base, 'POST', '/api/2.0/mlflow/runs/log-metric', {
    run_id: runId,
    key: 'silhouette',
    value: 0.625,
    timestamp: Date.now(),
    step: 3,
  });

  const { run: readBack } = await call<{
    run: { info: { experiment_id: string }; data: { metrics: { key: string; value: number; step: string }[] } };
  }>(base, 'GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`);
  assert.equal(readBack.info.experiment_id, experimentId);
  assert.deepEqual(
    readBack.data.metrics.map(({ key, value, step }) => ({ key, value, step: Number(step) })),
    [{ key: 'silhouette', value: 0.625, step: 3 }],
  );

  // The server runs with --serve-artifacts, so runs store artifacts behind the mlflow-artifacts proxy.
  assert.match(run.info.artifact_uri, /^mlflow-artifacts:\//);
  const runArtifactPath = run.info.artifact_uri.replace(/^mlflow-artifacts:\/+/, '');
  const artifact = JSON.stringify({
    centroids: [
      [0, 1],
      [2, 3],
    ],
    threshold: 1.5,
  });
  const upload = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${runArtifactPath}/model/model.json`, {
    method: 'PUT',
    body: artifact,
    signal: AbortSignal.timeout(15_000),
  });
  assert.ok(upload.ok, `artifact upload answered ${upload.status}`);

  const listing = await call<{ files?: { path: string; is_dir: boolean; file_size?: string }[] }>(
    base,
    'GET',
    `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=model`,
  );
  assert.deepEqual(
    listing.files?.map((file) => [file.path, file.is_dir, Number(file.file_size)]),
    [['model/model.json', false, Buffer.byteLength(artifact)]],
  );

  const download = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${runArtifactPath}/model/model.json`, {
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(download.status, 200);
  assert.equal(await download.text(), artifact);
});
