// The Scorer over a loaded model artifact: features, scaler and one distance matrix per batch.
import type { LogEvent } from '../logs/record.js';
import { initBackend } from './backend.js';
import type { ClientWindow } from './clientWindow.js';
import { extractScaledFeatures, FEATURE_COUNT, type FeatureBuffers } from './features.js';
import type { ModelArtifact } from './model.js';
import { applyFeatureScores, explainRow, scoreAugmentedRows, scoringTensors, spreadTables, type ScoringTensors } from './score.js';
import type { AnomalyReason, BatchScores, ScoreOptions, Scorer } from './scorer.js';

export interface KMeansScorer extends Scorer {
  readonly model: ModelArtifact;
  /** Frees the model's tensors; the scorer must not be used afterwards. */
  dispose(): void;
}

export function createScorer(model: ModelArtifact, modelVersion: string): KMeansScorer {
  let tensors: ScoringTensors | undefined;
  const spreads = spreadTables(model);
  const buffers: FeatureBuffers = { raw: new Float32Array(0), augmented: new Float32Array(0) };
  return {
    model,
    modelVersion,
    featureSpecId: model.featureSpec.id,
    threshold: model.threshold,
    async score(events: readonly LogEvent[], window: ClientWindow, options: ScoreOptions = {}): Promise<BatchScores> {
      const { raw, augmented } = extractScaledFeatures(events, window, model.vocabulary, model.scaler, buffers);
      await initBackend();
      tensors ??= scoringTensors(model);
      const { scores, clusters } = await scoreAugmentedRows(tensors, augmented, FEATURE_COUNT);
      applyFeatureScores(spreads, augmented, FEATURE_COUNT + 2, clusters, scores, model.threshold);
      const explain = options.reasons ?? true;
      const maxReasons = options.maxReasons ?? 3;
      const anomalous = new Uint8Array(events.length);
      const reasons = new Map<number, AnomalyReason[]>();
      for (let row = 0; row < events.length; row += 1) {
        if (!(scores[row]! > model.threshold)) continue;
        anomalous[row] = 1;
        if (explain) reasons.set(row, explainRow(model, augmented, raw, row, clusters[row]!, maxReasons, FEATURE_COUNT + 2));
      }
      return { modelVersion, scores, clusters, anomalous, reasons };
    },
    dispose() {
      tensors?.dispose();
      tensors = undefined;
    },
  };
}
