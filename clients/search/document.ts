// The search document of one log record: ECS / OpenTelemetry field names where they exist,
// pipeline-specific fields under `logstream.*`. Pure functions, shared by both engines.
import { isIP } from 'node:net';
import type { LogRecord } from '../../logs/record.js';

/** What the anomaly model said about a record; absent when the record was not scored. */
export interface AnomalyVerdict {
  score: number;
  isAnomaly: boolean;
  cluster: number;
  modelVersion: string;
}

export type SearchDocument = {
  '@timestamp': string;
  event: { ingested: string; duration?: number };
  source: { ip?: string; address: string };
  http: {
    request: { method: string; referrer?: string };
    response: { status_code: number; body: { bytes: number } };
  };
  url: { path: string; query?: string };
  user_agent?: { original: string };
  logstream: {
    path_template: string;
    response_time_ms?: number;
    label?: string;
    kafka: { topic: string; partition: number; offset: string; timestamp: string };
    anomaly?: { score: number; is_anomaly: boolean; cluster: number; model_version: string };
  };
};

/** One document ready for `_bulk`: where it goes and under which id. */
export interface IndexedDocument {
  index: string;
  id: string;
  document: Readonly<Record<string, unknown>>;
}

const nanosecondsPerMillisecond = 1_000_000;

/** Deterministic id: a replayed Kafka message overwrites its document instead of duplicating it. */
export function documentId(source: Pick<LogRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${source.topic}-${source.partition}-${source.offset}`;
}

/** Pattern of every daily logs index under a prefix, as used by the index template. */
export function logsIndexPattern(prefix: string): string {
  return `${prefix}-logs-*`;
}

/** Daily index for an event time, `<prefix>-logs-YYYY.MM.DD` in UTC. */
export function logsIndexName(prefix: string, timestampMs: number): string {
  const date = new Date(timestampMs);
  if (Number.isNaN(date.getTime())) throw new RangeError(`invalid event time ${timestampMs}`);
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${prefix}-logs-${date.getUTCFullYear()}.${month}.${day}`;
}

/** The UTC day (epoch ms at midnight) a daily index name stands for, or undefined for other names. */
export function logsIndexDayMs(prefix: string, indexName: string): number | undefined {
  const head = `${prefix}-logs-`;
  if (!indexName.startsWith(head)) return undefined;
  const match = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(indexName.slice(head.length));
  if (!match) return undefined;
  const dayMs = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return logsIndexName(prefix, dayMs) === indexName ? dayMs : undefined;
}

export function toSearchDocument(record: LogRecord, verdict?: AnomalyVerdict | null): SearchDocument {
  const document: SearchDocument = {
    '@timestamp': new Date(record.timestampMs).toISOString(),
    event: { ingested: new Date(record.ingestTimeMs).toISOString() },
    // A combined log line may carry a host name where the address belongs: `ip` would reject the document.
    source: isIP(record.clientIp) ? { ip: record.clientIp, address: record.clientIp } : { address: record.clientIp },
    http: {
      request: { method: record.method },
      response: { status_code: record.status, body: { bytes: record.responseBytes } },
    },
    url: { path: record.path },
    logstream: {
      path_template: record.pathTemplate,
      // Offsets are int64: a string keeps every digit, the `long` mapping still sorts and aggregates them.
      kafka: {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset.toString(),
        timestamp: new Date(record.kafkaTimestampMs).toISOString(),
      },
    },
  };
  if (record.responseTimeMs !== null) {
    document.event.duration = Math.round(record.responseTimeMs * nanosecondsPerMillisecond);
    document.logstream.response_time_ms = record.responseTimeMs;
  }
  if (record.referrer !== null) document.http.request.referrer = record.referrer;
  if (record.query !== null) document.url.query = record.query;
  if (record.userAgent !== null) document.user_agent = { original: record.userAgent };
  if (record.label !== null) document.logstream.label = record.label;
  if (verdict) {
    document.logstream.anomaly = {
      score: verdict.score,
      is_anomaly: verdict.isAnomaly,
      cluster: verdict.cluster,
      model_version: verdict.modelVersion,
    };
  }
  return document;
}

/** Document, daily index and deterministic id of one record, ready for bulkIndex. */
export function toIndexedDocument(indexPrefix: string, record: LogRecord, verdict?: AnomalyVerdict | null): IndexedDocument {
  return { index: logsIndexName(indexPrefix, record.timestampMs), id: documentId(record), document: toSearchDocument(record, verdict) };
}
