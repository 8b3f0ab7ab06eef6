// What the streamer reports to Prometheus (clients/metrics). One function per event of a batch's
// life, so streamer.ts stays about streaming and this file about what is measured.
import {
  anomalies,
  anomalyScore,
  batchDuration,
  batchSize,
  deadLetters,
  deltaCommitConflicts,
  deltaCommitDuration,
  endToEndLatency,
  endpointLabels,
  kafkaLag,
  recordsConsumed,
  requests,
  responseTime,
  scoredRecords,
  searchBulkDuration,
  searchBulkFailures,
  setModelInfo,
  sinkRecords,
  statusClass,
  truthLabels,
} from '../clients/metrics/index.js';
import type { ScoredRecord } from './sinks.js';

/** Messages read from Kafka, the records they decoded into (scored), and how long decoding and scoring took. */
export function observeIntake(topic: string, messages: number, scored: readonly ScoredRecord[], durationMs: number): void {
  recordsConsumed.labels(topic).inc(messages);
  batchDuration.labels('decode_score').observe(durationMs / 1000);
  // Counters are summed per label set first: one labelled increment per set and batch, not per row,
  // and keyed by nested maps so the per-row work builds no strings.
  const requestCounts = new Map<string, Map<number, number>>();
  const scoredCounts = new Map<string, [normal: number, anomalous: number]>();
  const anomalyCounts = new Map<string, { labels: [string, string, string]; count: number }>();
  let lastEndpoint: { template: string; label: string; histogram: ResponseTimeHistogram } | undefined;
  for (const record of scored) {
    if (lastEndpoint?.template !== record.pathTemplate) {
      const label = endpointLabels.label(record.pathTemplate);
      lastEndpoint = { template: record.pathTemplate, label, histogram: responseTimeFor(label) };
    }
    const endpoint = lastEndpoint.label;
    let byStatus = requestCounts.get(endpoint);
    if (!byStatus) {
      byStatus = new Map();
      requestCounts.set(endpoint, byStatus);
    }
    const statusHundreds = Math.floor(record.status / 100);
    byStatus.set(statusHundreds, (byStatus.get(statusHundreds) ?? 0) + 1);
    if (record.responseTimeMs !== null) lastEndpoint.histogram.observe(record.responseTimeMs / 1000);
    if (record.anomalyScore !== null) anomalyScore.observe(record.anomalyScore);
    const label = truthLabels.label(record.label);
    let predicted = scoredCounts.get(label);
    if (!predicted) {
      predicted = [0, 0];
      scoredCounts.set(label, predicted);
    }
    predicted[record.isAnomaly ? 1 : 0] += 1;
    if (record.isAnomaly) {
      const key = `${record.cluster}\u0000${endpoint}\u0000${label}`;
      const entry = anomalyCounts.get(key);
      if (entry) entry.count += 1;
      else anomalyCounts.set(key, { labels: [String(record.cluster), endpoint, label], count: 1 });
    }
  }
  for (const [endpoint, byStatus] of requestCounts) {
    for (const [hundreds, count] of byStatus) requests.labels(endpoint, statusClass(hundreds * 100)).inc(count);
  }
  for (const [label, [normal, anomalous]] of scoredCounts) {
    if (normal) scoredRecords.labels(label, 'normal').inc(normal);
    if (anomalous) scoredRecords.labels(label, 'anomaly').inc(anomalous);
  }
  for (const { labels, count } of anomalyCounts.values()) anomalies.labels(...labels).inc(count);
}

type ResponseTimeHistogram = { observe(seconds: number): void };

/** The response-time histogram of an endpoint, looked up once per endpoint (label hashing is not free per row). */
const responseTimeChildren = new Map<string, ResponseTimeHistogram>();
function responseTimeFor(endpoint: string): ResponseTimeHistogram {
  let child = responseTimeChildren.get(endpoint);
  if (!child) {
    child = responseTime.labels(endpoint);
    responseTimeChildren.set(endpoint, child);
  }
  return child;
}

/** A committed batch: its size, stage durations, rows per sink, dead letters, and how late the rows are. */
export function observeBatch(batch: {
  messages: number;
  stageMs: Record<string, number>;
  sinkRows: Record<string, number>;
  duplicateRows: number;
  deadLetterReasons: readonly string[];
  committedKafkaTimestampsMs: readonly number[];
  committedAtMs: number;
}): void {
  batchSize.observe(batch.messages);
  for (const [stage, ms] of Object.entries(batch.stageMs)) batchDuration.labels(stage).observe(ms / 1000);
  for (const [sink, rows] of Object.entries(batch.sinkRows)) if (rows > 0) sinkRecords.labels(sink, 'written').inc(rows);
  if (batch.duplicateRows > 0) sinkRecords.labels('delta_logs', 'duplicate').inc(batch.duplicateRows);
  for (const reason of batch.deadLetterReasons) deadLetters.labels(reason).inc();
  const toDelta = endToEndLatency.labels('delta');
  for (const producedMs of batch.committedKafkaTimestampsMs) toDelta.observe(Math.max(0, batch.committedAtMs - producedMs) / 1000);
}

export function observeDeltaCommit(table: string, durationMs: number): void {
  deltaCommitDuration.labels(table).observe(durationMs / 1000);
}

/** A commit that did not land: refused (the table was not where the batch continued from) or failed (retried). */
export function observeDeltaConflict(table: string, resolution: 'refused' | 'failed'): void {
  deltaCommitConflicts.labels(table, resolution).inc();
}

export function observeAlerts(kafkaTimestampsMs: readonly number[], sentAtMs: number): void {
  sinkRecords.labels('anomaly_alerts', 'written').inc(kafkaTimestampsMs.length);
  const toAlert = endToEndLatency.labels('alert');
  for (const producedMs of kafkaTimestampsMs) toAlert.observe(Math.max(0, sentAtMs - producedMs) / 1000);
}

export function observeSearchBulk(documents: number, durationMs: number, failed: boolean): void {
  searchBulkDuration.observe(durationMs / 1000);
  if (failed) {
    searchBulkFailures.labels('unavailable').inc();
    sinkRecords.labels('search', 'retried').inc(documents);
  } else {
    sinkRecords.labels('search', 'written').inc(documents);
  }
}

export function observeLag(topic: string, partition: number, lag: number): void {
  kafkaLag.labels(topic, String(partition)).set(lag);
}

export function observeModel(modelVersion: string, featureSpec: string, backend: string): void {
  setModelInfo(modelVersion, featureSpec, backend);
}
