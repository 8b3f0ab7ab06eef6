// Keeps the streamer's scorer on the version the registry alias points to. The streamer calls
// check() between batches; the registry is asked at most once per interval, and any failure
// leaves the current scorer in place.
import type { MlflowClient } from '../clients/mlflow/client.js';
import { createScorer, type KMeansScorer } from '../ml/kmeansScorer.js';
import { CHAMPION_ALIAS, downloadModel } from './registry.js';
import type { ModelArtifact } from '../ml/model.js';
import type { ModelCheck, ModelWatcher, Scorer } from '../ml/scorer.js';

export interface ModelWatcherOptions {
  client: MlflowClient;
  registeredModel: string;
  alias?: string;
  /** Shortest time between two registry lookups (default 30 s). */
  checkIntervalMs?: number;
  /** Clock, for tests. */
  nowMs?: () => number;
  /**
   * Refuses a model: returns why, or undefined to accept it. A pipeline on a site's own traffic
   * passes `refuseGeneratedModels` so that a champion trained on generated logs never scores it.
   */
  refuse?: (model: ModelArtifact) => string | undefined;
}

/** For `refuse`: a model trained on the generator's shop has no business scoring a real site. */
export function refuseGeneratedModels(model: ModelArtifact): string | undefined {
  return model.training.origin === 'generated'
    ? 'it was trained on generated traffic; this pipeline scores a site with models trained on its own traffic'
    : undefined;
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
        const refusal = options.refuse?.(model);
        if (refusal) {
          // Whatever was loaded before stops scoring too: the alias moved to a model we refuse.
          scorer?.dispose();
          scorer = undefined;
          throw new Error(`${options.registeredModel} version ${version.version} (${alias}) refused: ${refusal}`);
        }
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
