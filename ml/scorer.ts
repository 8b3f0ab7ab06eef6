// What the streamer codes against: a batched anomaly scorer and a watcher that swaps in the
// model the registry's `champion` alias points to, checked between micro-batches.
import type { LogEvent } from '../logs/record.js';
import type { ClientWindow } from './clientWindow.js';

/** One feature that pushed a row away from its cluster. */
export interface AnomalyReason {
  feature: string;
  /** The row's raw feature value (before scaling). */
  value: number;
  /** Standardised distance from the cluster centre along this feature (signed). */
  deviation: number;
}

export interface ScoreResult {
  /** Distance to the nearest normal centroid divided by that cluster's high-percentile training distance. */
  score: number;
  /** score above the model's calibrated threshold. */
  isAnomaly: boolean;
  /** Index of the nearest centroid. */
  cluster: number;
  /** Registry version (or file name) of the model that scored the row. */
  modelVersion: string;
  /** The largest feature deviations; present for anomalies when reasons were requested. */
  reasons?: AnomalyReason[];
}

/**
 * A micro-batch's verdicts as columns, one entry per row in order: what the streamer copies into its
 * records, without an object per row.
 */
export interface BatchScores {
  /** Registry version (or file name) of the model that scored the rows. */
  modelVersion: string;
  /** See ScoreResult.score. */
  scores: Float32Array;
  /** Index of the nearest centroid. */
  clusters: Int32Array;
  /** 1 where the score is above the model's threshold. */
  anomalous: Uint8Array;
  /** The reasons of each anomalous row, by row index, when reasons were requested. */
  reasons: Map<number, AnomalyReason[]>;
}

/** One object per row, for offline callers (evaluation, the gate, reports). */
export function scoreResults(batch: BatchScores): ScoreResult[] {
  return Array.from(batch.scores, (score, row): ScoreResult => {
    const isAnomaly = batch.anomalous[row] === 1;
    return {
      score,
      isAnomaly,
      cluster: batch.clusters[row]!,
      modelVersion: batch.modelVersion,
      reasons: isAnomaly ? batch.reasons.get(row) : undefined,
    };
  });
}

export interface ScoreOptions {
  /** Explain anomalies with their top feature deviations (default true). */
  reasons?: boolean;
  /** How many reasons per anomaly (default 3). */
  maxReasons?: number;
}

export interface Scorer {
  readonly modelVersion: string;
  readonly featureSpecId: string;
  readonly threshold: number;
  /**
   * Scores a micro-batch in order, one distance matrix for the whole batch. Records every event
   * in `window` first, so client behaviour features include the batch itself.
   */
  score(events: readonly LogEvent[], window: ClientWindow, options?: ScoreOptions): Promise<BatchScores>;
}

export type ModelCheck =
  | { status: 'unchanged'; scorer: Scorer }
  | { status: 'loaded'; scorer: Scorer; previousVersion?: string }
  /** The registry was unreachable or the model invalid: the current scorer stays in use. */
  | { status: 'failed'; scorer?: Scorer; error: Error };

export interface ModelWatcher {
  /** The scorer in use, or undefined before the first successful load. */
  current(): Scorer | undefined;
  /**
   * Asks the registry which version the alias points to (at most once per check interval) and
   * loads it when it moved. Never throws; call it between batches.
   */
  check(): Promise<ModelCheck>;
}
