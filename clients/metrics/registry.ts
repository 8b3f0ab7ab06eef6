// Every Prometheus metric the pipeline exports, in one place so names, units and labels stay
// consistent (Prometheus conventions: snake_case, unit suffix, _total for counters).
// Label values are bounded: no client IPs or raw paths; endpoints go through BoundedLabelSet.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './fastHistogram.js';
import { BoundedLabelSet } from './labels.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'logstream_process_' });

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const recordsConsumed = new Counter({
  name: 'logstream_records_consumed_total',
  help: 'Kafka messages read by streamers',
  labelNames: ['topic'] as const,
  registers: [registry],
});

export const sinkRecords = new Counter({
  name: 'logstream_sink_records_total',
  help: 'Records handed to each sink, by outcome (written, duplicate, failed, retried)',
  labelNames: ['sink', 'outcome'] as const,
  registers: [registry],
});

export const deadLetters = new Counter({
  name: 'logstream_dead_letter_records_total',
  help: 'Messages sent to the dead-letter topic and quarantine table, by reason code',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const batchSize = new Histogram({
  name: 'logstream_batch_size_records',
  help: 'Messages per micro-batch',
  buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000],
  registers: [registry],
});

export const batchDuration = new Histogram({
  name: 'logstream_batch_duration_seconds',
  help: 'Time to process one micro-batch, by stage (decode, score, delta, search, alerts, total)',
  labelNames: ['stage'] as const,
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});

export const deltaCommitDuration = new Histogram({
  name: 'logstream_delta_commit_duration_seconds',
  help: 'Duration of Delta commits (write data files and the log entry), by table',
  labelNames: ['table'] as const,
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});

export const deltaCommitConflicts = new Counter({
  name: 'logstream_delta_commit_conflicts_total',
  help: 'Delta commits that did not land, by table and resolution (refused: the table was not where the batch continued from; failed: retried)',
  labelNames: ['table', 'resolution'] as const,
  registers: [registry],
});

export const searchBulkDuration = new Histogram({
  name: 'logstream_search_bulk_duration_seconds',
  help: 'Duration of search-engine _bulk requests',
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});

export const searchBulkFailures = new Counter({
  name: 'logstream_search_bulk_failures_total',
  help: 'Search documents or _bulk requests that failed, by reason (rejected, unavailable, mapping)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const kafkaLag = new Gauge({
  name: 'logstream_kafka_consumer_lag_messages',
  help: 'Messages between the high watermark and the last committed offset, per partition',
  labelNames: ['topic', 'partition'] as const,
  registers: [registry],
});

export const endToEndLatency = new FastHistogram({
  name: 'logstream_end_to_end_latency_seconds',
  help: 'Time from the Kafka produce timestamp to the Delta commit (sink=delta) or the anomaly alert (sink=alert)',
  labelNames: ['sink'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  registers: [registry],
});

export const anomalies = new Counter({
  name: 'logstream_anomalies_total',
  help: 'Records scored as anomalies, by predicted cluster, endpoint and ground-truth label when present',
  labelNames: ['cluster', 'endpoint', 'label'] as const,
  registers: [registry],
});

export const scoredRecords = new Counter({
  name: 'logstream_scored_records_total',
  help: 'Records scored, by ground-truth label when present and prediction (anomaly or normal); gives precision and recall',
  labelNames: ['label', 'predicted'] as const,
  registers: [registry],
});

export const anomalyScore = new FastHistogram({
  name: 'logstream_anomaly_score',
  help: 'Distribution of anomaly scores (distance to the nearest centroid over its calibrated radius; 1 = threshold)',
  buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
  registers: [registry],
});

export const requests = new Counter({
  name: 'logstream_http_requests_total',
  help: 'Web requests seen in the logs, by endpoint template and status class',
  labelNames: ['endpoint', 'status_class'] as const,
  registers: [registry],
});

export const responseTime = new FastHistogram({
  name: 'logstream_http_response_time_seconds',
  help: 'Response time of web requests seen in the logs, by endpoint template',
  labelNames: ['endpoint'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const modelInfo = new Gauge({
  name: 'logstream_model_info',
  help: 'The model in use (value 1), with its registry version, feature spec and TensorFlow.js backend',
  labelNames: ['model_version', 'feature_spec', 'backend'] as const,
  registers: [registry],
});

export const healthCheck = new Gauge({
  name: 'logstream_health_check_info',
  help: 'Latest result of each health check: value 1 on the series of its current status (ok, warn, fail, unknown); check="overall" is the verdict (ok, degraded, down)',
  labelNames: ['check', 'status'] as const,
  registers: [registry],
});

export const healthCheckedAt = new Gauge({
  name: 'logstream_health_checked_at_seconds',
  help: 'Unix time of the latest health check run by this worker',
  registers: [registry],
});

/** When each running streamer last finished a batch or reported while idle. */
const lastHeartbeatMs = new Map<string, number>();

export const streamerHeartbeatAge = new Gauge({
  name: 'logstream_streamer_heartbeat_age_seconds',
  help: 'Seconds since each streamer last finished a batch or heartbeat',
  labelNames: ['streamer'] as const,
  registers: [registry],
  // Computed at scrape time, so a stuck streamer's age keeps growing.
  collect() {
    this.reset();
    const now = Date.now();
    for (const [streamer, beatMs] of lastHeartbeatMs) this.labels(streamer).set((now - beatMs) / 1000);
  },
});

export function markStreamerHeartbeat(streamer: string): void {
  lastHeartbeatMs.set(streamer, Date.now());
}

/** A stopped streamer no longer reports an age. */
export function forgetStreamerHeartbeat(streamer: string): void {
  lastHeartbeatMs.delete(streamer);
}

export const trainingRuns = new Counter({
  name: 'logstream_training_runs_total',
  help: 'Model trainings, by outcome (promoted, kept, failed)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const trainingMetric = new Gauge({
  name: 'logstream_training_metric',
  help: 'Metrics of the latest training run (k, silhouette, precision, recall, f1, false_positive_rate, threshold)',
  labelNames: ['metric'] as const,
  registers: [registry],
});

/** Endpoint templates become label values only for the first 100 seen; the rest are "other". */
export const endpointLabels = new BoundedLabelSet(100);
/** Ground-truth labels (generator scenarios); anything beyond 20 distinct values is "other". */
export const truthLabels = new BoundedLabelSet(20);

/** Replaces the model info series so only the model in use is reported. */
export function setModelInfo(modelVersion: string, featureSpec: string, backend: string): void {
  modelInfo.reset();
  modelInfo.labels(modelVersion, featureSpec, backend).set(1);
}
