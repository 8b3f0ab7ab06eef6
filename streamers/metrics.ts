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
  // Counters are summed per label set first: one labelled increment per set and batch, not per row.
  const counts = new Map<string, { counter: typeof requests | typeof scoredRecords | typeof anomalies; labels: string[]; count: number }>();
  const count = (counter: typeof requests | typeof scoredRecords | typeof anomalies, labels: string[]) => {
    const key = `${counter === requests ? 'r' : counter === scoredRecords ? 's' : 'a'}\u0000${labels.join('\u0000')}`;
    const entry = counts.get(key);
    if (entry) entry.count += 1;
    else counts.set(key, { counter, labels, count: 1 });
  };
  for (const record of scored) {
    const endpoint = endpointLabels.label(record.pathTemplate);
    const label = truthLabels.label(record.label);
    count(requests, [endpoint, statusClass(record.status)]);
    if (record.responseTimeMs !== null) responseTimeFor(endpoint).observe(record.responseTimeMs / 1000);
    anomalyScore.observe(record.anomalyScore);
    count(scoredRecords, [label, record.isAnomaly ? 'anomaly' : 'normal']);
    if (record.isAnomaly) count(anomalies, [String(record.cluster), endpoint, label]);
  }
  for (const { counter, labels, count: value } of counts.values()) (counter.labels as (...values: string[]) => { inc(value: number): void })(...labels).inc(value);
}

/** The response-time histogram of an endpoint, looked up once per endpoint (label hashing is not free per row). */
const responseTimeChildren = new Map<string, { observe(seconds: number): void }>();
function responseTimeFor(endpoint: string): { observe(seconds: number): void } {
  let child = responseTimeChildren.get(endpoint);
  if (!child) responseTimeChildren.set(endpoint, (child = responseTime.labels(endpoint)));
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
  for (const producedMs of batch.committedKafkaTimestampsMs) endToEndLatency.labels('delta').observe(Math.max(0, batch.committedAtMs - producedMs) / 1000);
}

export function observeDeltaCommit(table: string, durationMs: number): void {
  deltaCommitDuration.labels(table).observe(durationMs / 1000);
}

/** A commit that lost a race: retried (another partition moved) or dropped as a duplicate. */
export function observeDeltaConflict(table: string, resolution: 'retried' | 'duplicate' | 'failed'): void {
  deltaCommitConflicts.labels(table, resolution).inc();
}

export function observeAlerts(kafkaTimestampsMs: readonly number[], sentAtMs: number): void {
  sinkRecords.labels('anomaly_alerts', 'written').inc(kafkaTimestampsMs.length);
  for (const producedMs of kafkaTimestampsMs) endToEndLatency.labels('alert').observe(Math.max(0, sentAtMs - producedMs) / 1000);
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
