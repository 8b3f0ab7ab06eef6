// Keeps the streamer's scorer on the version the registry alias points to. The streamer calls
// check() between batches; the registry is asked at most once per interval, and any failure
// leaves the current scorer in place.
import type { MlflowClient } from '../clients/mlflow/client.js';
import { createScorer, type KMeansScorer } from '../ml/kmeansScorer.js';
import { CHAMPION_ALIAS, downloadModel } from './registry.js';
import type { ModelCheck, ModelWatcher, Scorer } from '../ml/scorer.js';

export interface ModelWatcherOptions {
  client: MlflowClient;
  registeredModel: string;
  alias?: string;
  /** Shortest time between two registry lookups (default 30 s). */
  checkIntervalMs?: number;
  /** Clock, for tests. */
  nowMs?: () => number;
}

export function createModelWatcher(options: ModelWatcherOptions): ModelWatcher & { dispose(): void } {
  const alias = options.alias ?? CHAMPION_ALIAS;
  const intervalMs = options.checkIntervalMs ?? 30_000;
  const now = options.nowMs ?? Date.now;
  let scorer: KMeansScorer | undefined;
  let lastCheckMs = Number.NEGATIVE_INFINITY;
  let lastError: Error | undefined;

  return {
    current: () => scorer,
    async check(): Promise<ModelCheck> {
      // Also rate-limited while no model is loaded: without a champion the streamer still calls
      // check() every batch, and the registry should not hear from it every batch.
      if (now() - lastCheckMs < intervalMs) {
        return scorer ? { status: 'unchanged', scorer } : { status: 'failed', error: lastError ?? new Error('no model loaded yet') };
      }
      lastCheckMs = now();
      try {
        const version = await options.client.getVersionByAlias(options.registeredModel, alias);
        if (!version) throw new Error(`registered model ${options.registeredModel} has no alias ${alias}`);
        if (scorer && scorer.modelVersion === version.version) return { status: 'unchanged', scorer };
        const model = await downloadModel(options.client, version);
        const previous = scorer;
        scorer = createScorer(model, version.version);
        previous?.dispose();
        return { status: 'loaded', scorer, previousVersion: previous?.modelVersion };
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        return { status: 'failed', scorer, error: lastError };
      }
    },
    dispose() {
      scorer?.dispose();
      scorer = undefined;
    },
  };
}

/** A watcher that always has the same scorer: for a model given as a file, and for benchmarks. */
export function staticModelWatcher(scorer: Scorer): ModelWatcher {
  return { current: () => scorer, check: async () => ({ status: 'unchanged', scorer }) };
}
