// The scorer the streamer falls back to while no trained model is loaded (ml/scorer.ts defines the
// interface; the K-means scorer implements it). A fixed rule so anomalies still flow end to end.
import type { LogEvent } from '../logs/record.js';
import type { ClientWindow } from '../ml/clientWindow.js';
import type { ModelWatcher, ScoreResult, Scorer } from '../ml/scorer.js';

export const PLACEHOLDER_SLOW_RESPONSE_MS = 2000;

/** Flags server errors and responses slower than 2 s; score 0..1. */
export class PlaceholderScorer implements Scorer {
  readonly modelVersion = 'placeholder';
  readonly featureSpecId = 'placeholder';
  readonly threshold = 0.5;

  async score(events: readonly LogEvent[], _window?: ClientWindow): Promise<ScoreResult[]> {
    return events.map((event) => {
      const serverError = event.status >= 500;
      const slow = event.responseTimeMs !== null && event.responseTimeMs > PLACEHOLDER_SLOW_RESPONSE_MS;
      const latencyScore = event.responseTimeMs === null ? 0 : Math.min(1, event.responseTimeMs / (2 * PLACEHOLDER_SLOW_RESPONSE_MS));
      const score = Math.max(serverError ? 0.9 : event.status >= 400 ? 0.3 : 0, latencyScore);
      const reasons = [
        ...(serverError ? [{ feature: 'status', value: event.status, deviation: 1 }] : []),
        ...(slow ? [{ feature: 'response_time_ms', value: event.responseTimeMs ?? 0, deviation: 1 }] : []),
      ];
      return { score, isAnomaly: serverError || slow, cluster: -1, modelVersion: this.modelVersion, reasons };
    });
  }
}

/** The watcher's scorer when it has one, else the placeholder. */
export function currentScorer(watcher: ModelWatcher | undefined, fallback: Scorer): Scorer {
  return watcher?.current() ?? fallback;
}
