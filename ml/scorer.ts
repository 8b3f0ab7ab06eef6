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
  score(events: readonly LogEvent[], window: ClientWindow, options?: ScoreOptions): Promise<ScoreResult[]>;
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
