// The held-out labeled set models are compared on before promotion, and scoring a whole
// event list with a model (in micro-batches, one client window, as the streamer would).
import { createTrafficGenerator } from '../generator/traffic.js';
import type { LogEvent } from '../logs/record.js';
import { ClientWindow } from './clientWindow.js';
import { evaluateDetections, type EvaluationMetrics } from './evaluate.js';
import { createScorer } from './kmeansScorer.js';
import type { ModelArtifact } from './model.js';
import type { ScoreOptions, ScoreResult } from './scorer.js';

export const HOLDOUT_ROWS = 60_000;
/** A Tuesday morning, outside the training week, so holdout traffic is never training traffic. */
const HOLDOUT_START_MS = Date.UTC(2026, 1, 3, 9);

/** Generated labeled traffic with every scenario; the same seed always gives the same set. */
export function holdoutEvents(seed: number, rows = HOLDOUT_ROWS): LogEvent[] {
  const generator = createTrafficGenerator({ seed: (seed * 7919 + 17) >>> 0, startTimeMs: HOLDOUT_START_MS, ratePerSecond: 50 });
  return Array.from({ length: rows }, () => generator.next());
}

export const SCORING_BATCH_ROWS = 10_000;

export async function scoreEvents(model: ModelArtifact, events: readonly LogEvent[], modelVersion = 'candidate', options: ScoreOptions = {}): Promise<ScoreResult[]> {
  const scorer = createScorer(model, modelVersion);
  const window = new ClientWindow();
  const results: ScoreResult[] = [];
  try {
    for (let start = 0; start < events.length; start += SCORING_BATCH_ROWS) {
      results.push(...(await scorer.score(events.slice(start, start + SCORING_BATCH_ROWS), window, options)));
    }
  } finally {
    scorer.dispose();
  }
  return results;
}

export async function evaluateModel(model: ModelArtifact, events: readonly LogEvent[]): Promise<{ metrics: EvaluationMetrics; results: ScoreResult[] }> {
  const results = await scoreEvents(model, events, 'candidate', { reasons: false });
  const metrics = evaluateDetections(events.map((event) => event.label), results.map((result) => result.isAnomaly));
  return { metrics, results };
}
