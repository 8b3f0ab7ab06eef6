// Detection quality against labels: precision, recall and F1 overall and per label value,
// false-positive rate on normal rows, anomaly rate.

export interface LabelMetrics {
  label: string;
  rows: number;
  flagged: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvaluationMetrics {
  rows: number;
  labeledRows: number;
  anomalyRate: number;
  /** Share of normal (or unlabeled) rows flagged. */
  falsePositiveRate: number;
  overall: { precision: number; recall: number; f1: number; truePositives: number; falsePositives: number; falseNegatives: number };
  /** One entry per label value, "normal" first, then scenarios by name. */
  perLabel: LabelMetrics[];
}

export const NORMAL_LABEL = 'normal';

/** A label that names an attack scenario: not normal, not absent (a real site's rows carry none). */
export const isAttackLabel = (label: string | null | undefined): boolean => !!label && label !== NORMAL_LABEL;

/**
 * Labels null, "" and "normal" count as normal traffic. Per scenario, recall is its detection
 * rate; precision charges it the false positives in proportion to its share of anomalous rows
 * (so a scenario's precision equals the overall precision at that scenario's recall).
 * For "normal", precision and recall are those of predicting "not anomalous".
 */
export function evaluateDetections(labels: readonly (string | null)[], isAnomaly: readonly boolean[]): EvaluationMetrics {
  const byLabel = new Map<string, { rows: number; flagged: number }>();
  let flaggedTotal = 0;
  labels.forEach((label, index) => {
    const key = !label ? NORMAL_LABEL : label;
    const entry = byLabel.get(key) ?? { rows: 0, flagged: 0 };
    entry.rows += 1;
    if (isAnomaly[index]) {
      entry.flagged += 1;
      flaggedTotal += 1;
    }
    byLabel.set(key, entry);
  });
  const normal = byLabel.get(NORMAL_LABEL) ?? { rows: 0, flagged: 0 };
  const anomalousRows = labels.length - normal.rows;
  const truePositives = flaggedTotal - normal.flagged;
  const falsePositives = normal.flagged;
  const falseNegatives = anomalousRows - truePositives;
  const overall = { ...prf(truePositives, falsePositives, falseNegatives), truePositives, falsePositives, falseNegatives };

  const perLabel: LabelMetrics[] = [];
  const normalMetrics = prf(normal.rows - normal.flagged, falseNegatives, normal.flagged);
  perLabel.push({ label: NORMAL_LABEL, rows: normal.rows, flagged: normal.flagged, ...normalMetrics });
  for (const [label, entry] of [...byLabel].filter(([key]) => key !== NORMAL_LABEL).sort(([a], [b]) => a.localeCompare(b))) {
    const chargedFalsePositives = anomalousRows ? (falsePositives * entry.rows) / anomalousRows : 0;
    perLabel.push({
      label,
      rows: entry.rows,
      flagged: entry.flagged,
      ...prf(entry.flagged, chargedFalsePositives, entry.rows - entry.flagged),
    });
  }
  return {
    rows: labels.length,
    labeledRows: labels.filter((label) => label).length,
    anomalyRate: labels.length ? flaggedTotal / labels.length : 0,
    falsePositiveRate: normal.rows ? normal.flagged / normal.rows : 0,
    overall,
    perLabel,
  };
}

function prf(truePositives: number, falsePositives: number, falseNegatives: number): { precision: number; recall: number; f1: number } {
  const precision = truePositives + falsePositives > 0 ? truePositives / (truePositives + falsePositives) : 0;
  const recall = truePositives + falseNegatives > 0 ? truePositives / (truePositives + falseNegatives) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}
