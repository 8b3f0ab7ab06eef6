// Scoring a whole event list with a model (in micro-batches, one client window, as the streamer
// would), and detection quality against the events' labels.
import type { LogEvent } from '../logs/record.js';
import { ClientWindow } from './clientWindow.js';
import { evaluateDetections, type EvaluationMetrics } from './evaluate.js';
import { createScorer } from './kmeansScorer.js';
import type { ModelArtifact } from './model.js';
import { type ScoreOptions, type ScoreResult, scoreResults } from './scorer.js';

export const SCORING_BATCH_ROWS = 10_000;

export async function scoreEvents(
  model: ModelArtifact,
  events: readonly LogEvent[],
  modelVersion = 'candidate',
  options: ScoreOptions = {},
): Promise<ScoreResult[]> {
  const scorer = createScorer(model, modelVersion);
  const window = new ClientWindow();
  const results: ScoreResult[] = [];
  try {
    for (let start = 0; start < events.length; start += SCORING_BATCH_ROWS) {
      results.push(...scoreResults(await scorer.score(events.slice(start, start + SCORING_BATCH_ROWS), window, options)));
    }
  } finally {
    scorer.dispose();
  }
  return results;
}

export async function evaluateModel(
  model: ModelArtifact,
  events: readonly LogEvent[],
): Promise<{ metrics: EvaluationMetrics; results: ScoreResult[] }> {
  const results = await scoreEvents(model, events, 'candidate', { reasons: false });
  const metrics = evaluateDetections(
    events.map((event) => event.label),
    results.map((result) => result.isAnomaly),
  );
  return { metrics, results };
}
