// The watcher's pacing and failure handling, against a registry stand-in that counts lookups
// (the real registry is exercised in test/integration/mlflow-registry.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MlflowClient } from '../../clients/mlflow/client.js';
import { createModelWatcher } from '../../training/modelWatcher.js';

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
