// The streamer's ModelWatcher, following the model the pipeline wants: "champion" follows the
// registry alias; a version number pins that version. The streamer calls check() between
// batches, so a reloadModel signal takes effect without restarting it.
import type { MlflowClient } from '../clients/mlflow/client.js';
import { createScorer, type KMeansScorer } from '../ml/kmeansScorer.js';
import { createModelWatcher } from '../training/modelWatcher.js';
import { downloadModel } from '../training/registry.js';
import type { ModelArtifact } from '../ml/model.js';
import type { ModelCheck, ModelWatcher } from '../ml/scorer.js';

export interface DesiredModelWatcherOptions {
  client: MlflowClient;
  registeredModel: string;
  /** The selector the pipeline wants now: "champion" or a version number. */
  desired: () => string;
  /** Shortest time between two alias lookups while following the champion. */
  checkIntervalMs?: number;
  /** Refuses a champion (e.g. one trained on generated traffic for a site's pipeline): returns why, or undefined. */
  refuse?: (model: ModelArtifact) => string | undefined;
  /** Told about every model switch and every new kind of failure (the streamer ignores check()'s result). */
  onChange?: (event: { loaded?: string; previous?: string; failed?: string }) => void;
}

export function createDesiredModelWatcher(options: DesiredModelWatcherOptions): ModelWatcher & { dispose(): void } {
  let champion: (ModelWatcher & { dispose(): void }) | undefined;
  let pinned: KMeansScorer | undefined;
  let following: string | undefined;

  const current = () => (following === 'champion' ? champion?.current() : pinned);
  let lastFailure: string | undefined;
  const report = (result: ModelCheck): ModelCheck => {
    if (result.status === 'loaded') {
      lastFailure = undefined;
      options.onChange?.({ loaded: result.scorer.modelVersion, previous: result.previousVersion });
    } else if (result.status === 'failed' && result.error.message !== lastFailure) {
      lastFailure = result.error.message;
      options.onChange?.({ failed: result.error.message });
    }
    return result;
  };

  return {
    current,
    check: async () => report(await checkDesired()),
    dispose() {
      champion?.dispose();
      releasePinned();
    },
  };

  async function checkDesired(): Promise<ModelCheck> {
    const desired = options.desired();
    const previous = current();
    if (desired === 'champion') {
      if (!champion) {
        champion = createModelWatcher({
          client: options.client,
          registeredModel: options.registeredModel,
          checkIntervalMs: options.checkIntervalMs,
          refuse: options.refuse,
        });
      }
      const result = await champion!.check();
      if (result.status !== 'failed' || result.scorer) {
        following = 'champion';
        releasePinned();
      }
      return result.status === 'loaded' ? { ...result, previousVersion: previous?.modelVersion } : result;
    }
    if (following === desired && pinned) return { status: 'unchanged', scorer: pinned };
    try {
      const version = await options.client.getModelVersion(options.registeredModel, desired);
      const scorer = createScorer(await downloadModel(options.client, version), version.version);
      releasePinned();
      pinned = scorer;
      following = desired;
      champion?.dispose();
      champion = undefined;
      return { status: 'loaded', scorer, previousVersion: previous?.modelVersion };
    } catch (error) {
      // Keep scoring with what we have; the next check tries again.
      return { status: 'failed', scorer: previous, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  function releasePinned(): void {
    pinned?.dispose();
    pinned = undefined;
  }
}
