// The watcher's pacing and failure handling, against a registry stand-in that counts lookups
// (the real registry is exercised in test/integration/mlflow-registry.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MlflowClient } from '../../clients/mlflow/client.js';
import { generateTrainingData } from '../../generator/index.js';
import { serializeModel } from '../../ml/model.js';
import { trainModel } from '../../ml/train.js';
import { createModelWatcher, refuseGeneratedModels } from '../../training/modelWatcher.js';

describe('model watcher pacing', () => {
  it('asks the registry at most once per interval, even while it has no model, and never throws', async () => {
    let lookups = 0;
    let nowMs = 0;
    const registry = {
      getVersionByAlias: async () => {
        lookups += 1;
        return undefined;
      },
    } as unknown as MlflowClient;
    const watcher = createModelWatcher({ client: registry, registeredModel: 'm', checkIntervalMs: 30_000, nowMs: () => nowMs });
    const first = await watcher.check();
    assert.equal(first.status, 'failed');
    assert.ok(first.status === 'failed' && /has no alias champion/.test(first.error.message));
    for (let batch = 0; batch < 100; batch += 1) {
      nowMs += 100;
      assert.equal((await watcher.check()).status, 'failed');
    }
    assert.equal(lookups, 1);
    nowMs += 30_000;
    await watcher.check();
    assert.equal(lookups, 2);
    assert.equal(watcher.current(), undefined);
  });
});

describe('model watcher refusals', () => {
  it('keeps a champion trained on generated traffic from scoring a real site, saying why', async () => {
    const { model } = await trainModel(generateTrainingData(2_000, 3), {
      kMin: 2,
      kMax: 2,
      seed: 3,
      thresholdPercentile: 99,
      source: 'test',
      origin: 'generated',
    });
    const registry = {
      getVersionByAlias: async () => ({ name: 'm', version: '7', source: 'mlflow-artifacts:/x/model', tags: {}, aliases: ['champion'] }),
      downloadArtifact: async () => serializeModel(model),
    } as unknown as MlflowClient;
    const accepting = createModelWatcher({ client: registry, registeredModel: 'm', checkIntervalMs: 0 });
    assert.equal((await accepting.check()).status, 'loaded');
    const refusing = createModelWatcher({ client: registry, registeredModel: 'm', checkIntervalMs: 0, refuse: refuseGeneratedModels });
    const result = await refusing.check();
    assert.equal(result.status, 'failed');
    assert.ok(
      result.status === 'failed' && /version 7 \(champion\) refused: it was trained on generated traffic/.test(result.error.message),
    );
    assert.equal(refusing.current(), undefined);
    accepting.dispose();
  });
});
