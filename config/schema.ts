// The configuration schema: every key, its type and its default.
// Keys are snake_case because that is what users already write in pipeline_config.json.
import { z } from 'zod';

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, for example 127.0.0.1:7233');
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'expected an http(s) URL, for example http://127.0.0.1:9200');
const positiveInt = z.number().int().positive();

const kafka = z.strictObject({
  /** Bootstrap servers, "host:port" or a comma-separated list of them. */
  servers: z
    .string()
    .regex(/^[^\s,:/]+:\d{1,5}(,[^\s,:/]+:\d{1,5})*$/, 'expected host:port[,host:port…]')
    .default('127.0.0.1:9092'),
  topic: z.string().min(1).default('web-logs'),
  partitions: positiveInt.max(1000).default(3),
  dlq_topic: z.string().min(1).default('web-logs-dlq'),
  anomalies_topic: z.string().min(1).default('web-logs-anomalies'),
  consumer_group: z.string().min(1).default('logstream-streamers'),
  client_id: z.string().min(1).default('logstream'),
});

const elasticsearch = z.strictObject({
  host: httpUrl.default('http://127.0.0.1:9200'),
  enabled: z.boolean().default(true),
  /** Which engine answers at `host`; it decides the client library. */
  kind: z.enum(['opensearch', 'elasticsearch']).default('opensearch'),
  index_prefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _')
    .default('web-logs'),
  username: z.string().optional(),
  password: z.string().optional(),
});

const delta = z.strictObject({
  /** Folder that holds the tables (logs, anomalies, metrics_1m, quarantine). */
  root: z.string().min(1).default('./lakehouse'),
  checkpoint_interval: positiveInt.default(10),
  target_file_size_mb: positiveInt.default(128),
  vacuum_retention_hours: z.number().nonnegative().default(168),
  log_retention_days: positiveInt.default(30),
});

const temporal = z.strictObject({
  address: hostPort.default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  task_queue: z.string().min(1).default('logstream'),
  streamer_task_queue: z.string().min(1).default('logstream-streamers'),
  /** Streamer activities one worker runs at most, so one worker cannot take every streamer. */
  max_streamers_per_worker: positiveInt.default(2),
  heartbeat_timeout_seconds: positiveInt.default(30),
  ui_port: positiveInt.max(65535).default(8233),
});

const mlflow = z.strictObject({
  tracking_uri: httpUrl.default('http://127.0.0.1:5000'),
  experiment: z.string().min(1).default('logstream-anomaly-detection'),
  registered_model: z.string().min(1).default('logstream-kmeans'),
});

const ml = z.strictObject({
  training_samples: positiveInt.default(10000),
  retrain_interval_hours: z.number().positive().default(24),
  lookback_hours: z.number().positive().default(24),
  k_min: z.number().int().min(2).default(2),
  k_max: z.number().int().min(2).default(12),
  seed: z.number().int().default(42),
  threshold_percentile: z.number().gt(50).lt(100).default(99),
  /** Largest share of the site's held-out rows a model may flag and still be promoted. */
  gate_false_positive_budget: z.number().gt(0).lt(1).default(0.02),
  /** Share of the training data's time span held out (the most recent) to judge candidates on. */
  gate_holdout_fraction: z.number().gt(0).lt(1).default(0.2),
  /** At most this many of the most recent held-out rows are scored. */
  gate_holdout_rows: positiveInt.default(20000),
});

const streaming = z.strictObject({
  streamers: positiveInt.default(1),
  batch_max_rows: positiveInt.default(5000),
  batch_max_wait_ms: positiveInt.default(1000),
  max_message_bytes: positiveInt.default(64 * 1024),
  /** Streamer activities return after this long and are started again by the pipeline workflow. */
  run_minutes: positiveInt.default(60),
});

const schedules = z.strictObject({
  health_check_interval_minutes: z.number().positive().default(1),
  maintenance_interval_hours: z.number().positive().default(6),
});

const prometheus = z.strictObject({
  url: httpUrl.default('http://127.0.0.1:9090'),
  /** Port of the worker's /metrics endpoint. */
  metrics_port: positiveInt.max(65535).default(9464),
});

const stack = z.strictObject({
  /** Where `logstream stack` installs services; shared by every checkout on the machine. */
  cache_dir: z.string().min(1).default('~/.cache/logstream'),
  /** Where running services keep data, logs and pid files. */
  state_dir: z.string().min(1).default('~/.cache/logstream/state'),
  start_timeout_seconds: positiveInt.default(180),
});

export const configSchema = z.strictObject({
  kafka: kafka.prefault({}),
  elasticsearch: elasticsearch.prefault({}),
  delta: delta.prefault({}),
  temporal: temporal.prefault({}),
  mlflow: mlflow.prefault({}),
  ml: ml.prefault({}),
  streaming: streaming.prefault({}),
  schedules: schedules.prefault({}),
  prometheus: prometheus.prefault({}),
  stack: stack.prefault({}),
});

export type PipelineConfig = z.infer<typeof configSchema>;
export type ConfigSection = keyof PipelineConfig;
export const configSections = Object.keys(configSchema.shape) as ConfigSection[];

/** The schema of one key, used to coerce environment variable strings. */
export function keySchema(section: ConfigSection, key: string): z.ZodType | undefined {
  const sectionSchema = configSchema.shape[section].unwrap() as z.ZodObject;
  return sectionSchema.shape[key] as z.ZodType | undefined;
}
