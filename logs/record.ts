// The canonical web-access log record every part of the pipeline agrees on.
// Decoders (logs/decode.ts) turn JSON lines and Apache/Nginx combined lines into LogEvent;
// the streamer adds where the message came from (LogRecord).

/** One HTTP request as the web server saw it. */
export interface LogEvent {
  /** Event time, epoch milliseconds UTC. */
  timestampMs: number;
  clientIp: string;
  method: string;
  /** Request path without the query string, e.g. /products/1234. */
  path: string;
  /** Query string without the leading "?", or null. */
  query: string | null;
  /** Path normalised to a template so endpoints can be grouped, e.g. /products/{id}. */
  pathTemplate: string;
  status: number;
  /** Response time in milliseconds; null when the format does not carry it (combined logs). */
  responseTimeMs: number | null;
  responseBytes: number;
  referrer: string | null;
  userAgent: string | null;
  /** Scenario label from the generator ("normal" or a scenario name); stored, never used as a feature. */
  label: string | null;
}

/** Where a message was read from. */
export interface KafkaSource {
  topic: string;
  partition: number;
  /** Kafka offsets are int64; kept as bigint so they never lose precision. */
  offset: bigint;
  /** Produce (or log-append) time of the Kafka message, epoch ms. */
  kafkaTimestampMs: number;
  /** When the streamer decoded the message, epoch ms. */
  ingestTimeMs: number;
}

export interface LogRecord extends LogEvent, KafkaSource {}
