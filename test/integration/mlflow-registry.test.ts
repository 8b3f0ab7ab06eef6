// Against the MLflow server of the local stack (mlflow.tracking_uri): training registers versions,
// promotion to `champion` needs at least the champion's held-out F1, the watcher follows the alias.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { MlflowClient } from '../../clients/mlflow/client.js';
import { MlflowUnavailableError } from '../../clients/mlflow/errors.js';
import { loadConfig } from '../../config/load.js';
import type { PipelineConfig } from '../../config/schema.js';
import { generateTrainingData } from '../../generator/index.js';
import { ClientWindow } from '../../ml/clientWindow.js';
import { createModelWatcher } from '../../training/modelWatcher.js';
import { CHAMPION_ALIAS, loadModel, REPORT_ARTIFACT_PATH } from '../../training/registry.js';
import { runTraining } from '../../training/trainingRun.js';

const base = loadConfig().config;
const unique = `${Date.now()}-${randomUUID().slice(0, 8)}`;
const config: PipelineConfig = {
  ...base,
  mlflow: { ...base.mlflow, experiment: `test-registry-${unique}`, registered_model: `test-kmeans-${unique}` },
  ml: { ...base.ml, k_min: 2, k_max: 4 },
};
const client = new MlflowClient({ trackingUri: config.mlflow.tracking_uri });
const HOLDOUT_ROWS = 20_000;

describe(`MLflow model registry at ${config.mlflow.tracking_uri}`, () => {
  before(async () => {
    assert.ok(await client.healthy(), `MLflow must answer at ${config.mlflow.tracking_uri} (logstream stack up)`);
  });

  it('registers a version per training, promotes only models at least as good, and the watcher follows champion', async () => {
    const good = await runTraining({ config, events: generateTrainingData(8_000, 42), source: 'test:good', holdoutRows: HOLDOUT_ROWS });
    assert.ok(good.published);
    assert.equal(good.published.promotion.promoted, true);
    assert.ok(good.holdout.overall.f1 > 0.8, `holdout F1 ${good.holdout.overall.f1}`);
    const champion = await client.getVersionByAlias(config.mlflow.registered_model, CHAMPION_ALIAS);
    assert.equal(champion?.version, good.published.version.version);
    const report = await client.downloadArtifact(`${good.published.run.artifactUri}/${REPORT_ARTIFACT_PATH}`);
    assert.match(report, /<svg /);

    const watcher = createModelWatcher({ client, registeredModel: config.mlflow.registered_model, checkIntervalMs: 0 });
    const first = await watcher.check();
    assert.equal(first.status, 'loaded');
    assert.equal(first.scorer?.modelVersion, good.published.version.version);
    const scored = await first.scorer!.score(generateTrainingData(500, 3), new ClientWindow());
    assert.equal(scored.scores.length, 500);
    assert.equal(scored.modelVersion, good.published.version.version);

    // Trained on traffic where 40% is attacks, unlabeled as a real site's would be, the model learns
    // attacks as normal: a worse model. (Rows labeled as attacks are left out of training.)
    const worse = await runTraining({
      config,
      events: generateTrainingData(8_000, 43, { anomalyRate: 0.4 }).map((event) => ({ ...event, label: null })),
      source: 'test:worse',
      holdoutRows: HOLDOUT_ROWS,
    });
    assert.ok(worse.published);
    assert.ok(worse.holdout.overall.f1 < good.holdout.overall.f1, `worse F1 ${worse.holdout.overall.f1} vs ${good.holdout.overall.f1}`);
    assert.equal(worse.published.promotion.promoted, false);
    assert.equal(Number(worse.published.version.version), Number(good.published.version.version) + 1, 'still registered as a new version');
    assert.equal((await client.getVersionByAlias(config.mlflow.registered_model, CHAMPION_ALIAS))?.version, good.published.version.version);
    assert.equal((await watcher.check()).status, 'unchanged');

    // An equally good model (same data and seed) is promoted, and the watcher hot-swaps to it.
    const again = await runTraining({ config, events: generateTrainingData(8_000, 42), source: 'test:again', holdoutRows: HOLDOUT_ROWS });
    assert.deepEqual(again.model.centroids, good.model.centroids, 'same data and seed give the same centroids');
    assert.equal(again.published?.promotion.promoted, true);
    const swapped = await watcher.check();
    assert.equal(swapped.status, 'loaded');
    assert.equal(swapped.scorer?.modelVersion, again.published!.version.version);
    const loaded = await loadModel('champion', { client, registeredModel: config.mlflow.registered_model });
    assert.equal(loaded.version, again.published!.version.version);
    watcher.dispose();
  });

  it('fails training with a message naming the URL when MLflow is unreachable, and scorers keep their model', async () => {
    const downUri = 'http://127.0.0.1:9';
    await assert.rejects(
      runTraining({
        config: { ...config, mlflow: { ...config.mlflow, tracking_uri: downUri } },
        events: generateTrainingData(500, 1),
        holdoutRows: 1_000,
      }),
      (error: unknown) => error instanceof MlflowUnavailableError && error.message.includes(downUri),
    );
    const healthy = createModelWatcher({ client, registeredModel: config.mlflow.registered_model, checkIntervalMs: 0 });
    const loaded = await healthy.check();
    const version = loaded.scorer?.modelVersion;
    assert.ok(version);
    // Same scorer object, now asking an unreachable registry.
    const unreachable = createModelWatcher({
      client: new MlflowClient({ trackingUri: downUri, timeoutMs: 2_000 }),
      registeredModel: config.mlflow.registered_model,
      checkIntervalMs: 0,
    });
    const failed = await unreachable.check();
    assert.equal(failed.status, 'failed');
    assert.ok(failed.status === 'failed' && failed.error.message.includes(downUri));
    healthy.dispose();
  });
});
