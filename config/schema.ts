// The configuration schema: every key, its type and its default.
// Keys are snake_case because that is what users already write in pipeline_config.json.
import { z } from 'zod';
import { canonicalFields, compileMapping, DEFAULT_MAPPINGS, MappingError, presetNames, timeUnits } from '../logs/mappings.js';
import { isValidTimeZone } from '../logs/timeZone.js';

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, for example 127.0.0.1:7233');
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'expected an http(s) URL, for example http://127.0.0.1:9200');
const positiveInt = z.number().int().positive();
/** A path to a PEM file (CA bundle, certificate or private key); `~/` and relative paths resolve at load. */
const pemFile = z.string().min(1);
/**
 * A secret: `${env:NAME}` (read from that environment variable when used) or `${file:PATH}` (the
 * file's content, one trailing newline dropped). Clear text is refused in a configuration file
 * unless secrets.allow_plaintext is set; see config/secrets.ts.
 */
const secret = z.string().min(1);
/** A user name; it may also be a `${env:NAME}` or `${file:PATH}` reference. */
const userName = z.string().min(1);

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
  /** Kafka's own names: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT, SASL_SSL (SASL over TLS). */
  security_protocol: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
  sasl_mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).optional(),
  sasl_username: userName.optional(),
  sasl_password: secret.optional(),
  /** CA bundle the brokers' certificates are verified against (default: Node's built-in CAs). */
  tls_ca_file: pemFile.optional(),
  /** Client certificate and its key, for brokers that ask for one (ssl.client.auth). */
  tls_cert_file: pemFile.optional(),
  tls_key_file: pemFile.optional(),
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
  username: userName.optional(),
  password: secret.optional(),
  /** Elasticsearch API key, the base64 "encoded" form (id:key); instead of username and password. */
  api_key: secret.optional(),
  tls_ca_file: pemFile.optional(),
  /** Verify the engine's certificate (https hosts); false only for a throwaway test engine. */
  tls_verify: z.boolean().default(true),
});

const delta = z.strictObject({
  /** Folder or s3://bucket/prefix that holds the tables (logs, anomalies, metrics_1m, quarantine). */
  root: z.string().min(1).default('./lakehouse'),
  /** A checkpoint is due after this many commits at least (more on a table with many live files); see clients/delta/checkpointPolicy.ts. */
  checkpoint_interval: positiveInt.default(100),
  /** At most one checkpoint per this long, unless the tail reaches checkpoint_max_tail_commits or _mb. */
  checkpoint_min_interval_seconds: z.number().nonnegative().default(30),
  /** Bounds what a snapshot load replays after the checkpoint, whatever the table's size. */
  checkpoint_max_tail_commits: positiveInt.default(500),
  checkpoint_max_tail_mb: z.number().positive().default(8),
  target_file_size_mb: positiveInt.default(128),
  vacuum_retention_hours: z.number().nonnegative().default(168),
  /** Commit history kept (time travel, `table history`); VACUUM's 168 h bounds readable versions anyway. */
  log_retention_days: positiveInt.default(7),
});

/** Delta tables at s3://… locations (delta.root or a table path): where the store is and how to sign in. */
const s3 = z.strictObject({
  /** S3-compatible endpoint; unset = AWS S3 (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). */
  endpoint: httpUrl.optional(),
  /** Unset: AWS_REGION, AWS_DEFAULT_REGION or the profile's region. */
  region: z.string().min(1).optional(),
  force_path_style: z.boolean().default(false),
  /** Static credentials: the key id here, the secret only in the file named by secret_access_key_file. */
  access_key_id: z.string().min(1).optional(),
  secret_access_key_file: z.string().min(1).optional(),
  /** A profile of ~/.aws/config and ~/.aws/credentials (else AWS_PROFILE and the default credential chain). */
  profile: z.string().min(1).optional(),
  multipart_threshold_mb: positiveInt.default(64),
  multipart_part_size_mb: z.number().int().min(5).default(16),
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
  /** Worker versioning (Temporal worker deployments): set both to roll out workers version by version. */
  deployment_name: z.string().min(1).optional(),
  build_id: z.string().min(1).optional(),
  /** TLS to the frontend; unset means on when a tls_* file or api_key is set (as the Temporal SDK does). */
  tls: z.boolean().optional(),
  tls_ca_file: pemFile.optional(),
  /** Client certificate and key for mTLS (Temporal Cloud's certificate authentication). */
  tls_cert_file: pemFile.optional(),
  tls_key_file: pemFile.optional(),
  /** Name the server certificate is checked against (SNI), when it differs from the address's host. */
  tls_server_name: z.string().min(1).optional(),
  /** API key sent as `authorization: Bearer …` (Temporal Cloud API keys). */
  api_key: secret.optional(),
});

const mlflow = z.strictObject({
  tracking_uri: httpUrl.default('http://127.0.0.1:5000'),
  experiment: z.string().min(1).default('logstream-anomaly-detection'),
  registered_model: z.string().min(1).default('logstream-kmeans'),
  /** Basic auth of an MLflow server run with `--app-name basic-auth` (or behind a proxy that asks for it). */
  username: userName.optional(),
  password: secret.optional(),
  tls_ca_file: pemFile.optional(),
});

const ml = z.strictObject({
  training_samples: positiveInt.default(10000),
  retrain_interval_hours: z.number().positive().default(24),
  lookback_hours: z.number().positive().default(24),
  k_min: z.number().int().min(2).default(2),
  k_max: z.number().int().min(2).default(12),
  seed: z.number().int().default(42),
  /** A pipeline on a site's own traffic trains its first model once Delta holds this many rows of it… */
  learning_rows: positiveInt.default(5000),
  /** …spread over at least this many minutes (0: any span). */
  learning_minutes: z.number().nonnegative().default(60),
  learning_check_seconds: positiveInt.default(60),
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
  batch_max_rows: positiveInt.default(20_000),
  /** The latency budget: a batch that is not full is written after this long. */
  batch_max_wait_ms: positiveInt.default(5000),
  batch_max_mb: z.number().positive().default(16),
  max_message_bytes: positiveInt.default(64 * 1024),
  /** Streamer activities return after this long and are started again by the pipeline workflow. */
  run_minutes: positiveInt.default(60),
});

const mappingName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _, starting with a letter');
const canonicalField = z.enum(canonicalFields);
const timeUnit = z.enum(timeUnits);
const sourceField = z.union([
  canonicalField,
  z.strictObject({ to: canonicalField, unit: timeUnit.optional(), accept_string: z.boolean().optional() }),
]);
const mappingDefinition = z.union([
  z.strictObject({ format: z.literal('json').optional(), fields: z.record(z.string().min(1), sourceField) }),
  z.strictObject({ format: z.literal('combined'), response_time_unit: z.enum([...timeUnits, 'auto']).optional() }),
]);

/** How messages are read: field mappings (logs/mappings.ts), per topic, the zone and the event-time window. */
const decode = z
  .strictObject({
    /** Mappings tried in order for every topic not in `topics`. */
    use: z
      .array(mappingName)
      .min(1)
      .default([...DEFAULT_MAPPINGS]),
    /** Topic -> the mappings its messages are read with. */
    topics: z.record(z.string().min(1), z.array(mappingName).min(1)).default({}),
    /** Mappings of your own, by name (source field -> canonical field). */
    mappings: z.record(mappingName, mappingDefinition).default({}),
    /** Zone of timestamps written without one. */
    time_zone: z
      .string()
      .refine(isValidTimeZone, 'expected UTC, an offset such as +02:00, or a time zone name such as Europe/Paris')
      .default('UTC'),
    /** Kafka messages with an event time further back than this from their ingest time are quarantined (0: no bound). */
    max_event_age_hours: z.number().nonnegative().default(168),
    /** …or further ahead than this (0: no bound but the day-ahead sanity check). */
    max_event_ahead_minutes: z.number().nonnegative().default(60),
  })
  .superRefine((section, context) => {
    for (const name of Object.keys(section.mappings)) {
      if ((presetNames as string[]).includes(name)) {
        context.addIssue({ code: 'custom', path: ['mappings', name], message: `${name} is a preset; give your mapping another name` });
        continue;
      }
      try {
        compileMapping(name, section.mappings[name]!);
      } catch (error) {
        if (!(error instanceof MappingError)) throw error;
        context.addIssue({ code: 'custom', path: ['mappings', name], message: error.message });
      }
    }
    const known = new Set<string>([...presetNames, ...Object.keys(section.mappings)]);
    const lists: Array<[Array<string | number>, readonly string[]]> = [
      [['use'], section.use],
      ...Object.entries(section.topics).map(([topic, names]): [Array<string | number>, readonly string[]] => [['topics', topic], names]),
    ];
    for (const [path, names] of lists) {
      names.forEach((name, index) => {
        if (!known.has(name)) {
          context.addIssue({
            code: 'custom',
            path: [...path, index],
            message: `unknown mapping ${name} (known: ${[...known].join(', ')})`,
          });
        }
      });
      const combined = names.filter((name) => name === 'combined' || section.mappings[name]?.format === 'combined');
      if (combined.length > 1) {
        context.addIssue({ code: 'custom', path, message: `${combined.join(' and ')} both read combined lines; use one` });
      }
    }
  });

const schedules = z.strictObject({
  health_check_interval_minutes: z.number().positive().default(1),
  maintenance_interval_hours: z.number().positive().default(6),
});

const prometheus = z.strictObject({
  url: httpUrl.default('http://127.0.0.1:9090'),
  /** Port of the worker's /metrics endpoint. */
  metrics_port: positiveInt.max(65535).default(9464),
  /** Address /metrics listens on: loopback by default; 0.0.0.0 (with auth and TLS) for a Prometheus on another machine. */
  metrics_host: z.string().min(1).default('127.0.0.1'),
  /** Basic auth asked of scrapers when set (with metrics_password). */
  metrics_username: userName.optional(),
  metrics_password: secret.optional(),
  /** Serve /metrics over https with this certificate and key. */
  metrics_tls_cert_file: pemFile.optional(),
  metrics_tls_key_file: pemFile.optional(),
});

const stack = z.strictObject({
  /** Where `logstream stack` installs services; shared by every checkout on the machine. */
  cache_dir: z.string().min(1).default('~/.cache/logstream'),
  /** Where running services keep data, logs and pid files. */
  state_dir: z.string().min(1).default('~/.cache/logstream/state'),
  start_timeout_seconds: positiveInt.default(180),
});

const secrets = z.strictObject({
  /** Accept clear-text secrets (and passwords inside URLs) in the configuration file. */
  allow_plaintext: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  kafka: kafka.prefault({}),
  elasticsearch: elasticsearch.prefault({}),
  delta: delta.prefault({}),
  s3: s3.prefault({}),
  temporal: temporal.prefault({}),
  mlflow: mlflow.prefault({}),
  ml: ml.prefault({}),
  streaming: streaming.prefault({}),
  decode: decode.prefault({}),
  schedules: schedules.prefault({}),
  prometheus: prometheus.prefault({}),
  stack: stack.prefault({}),
  secrets: secrets.prefault({}),
});

export type PipelineConfig = z.infer<typeof configSchema>;
export type ConfigSection = keyof PipelineConfig;
export const configSections = Object.keys(configSchema.shape) as ConfigSection[];

/** The schema of one key, used to coerce environment variable strings. */
export function keySchema(section: ConfigSection, key: string): z.ZodType | undefined {
  const sectionSchema = configSchema.shape[section].unwrap() as z.ZodObject;
  return sectionSchema.shape[key] as z.ZodType | undefined;
}
