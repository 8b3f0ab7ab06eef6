// Arrow tables of the four Delta tables the streamer writes. Pure: rows in, Arrow out.
// Column names are snake_case like the configuration and the search documents.
import { Table, type Vector } from 'apache-arrow';
import { boolColumn, float64Column, int32Column, int64Column, timestampColumn, utf8Column } from './arrowColumns.js';
import type { Rejection } from '../logs/reasons.js';
import type { MinuteAggregate } from './aggregate.js';
import type { ScoredRecord } from './sinks.js';

/** A message that failed decoding, with where it came from. */
export interface QuarantinedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  kafkaTimestampMs: number;
  ingestTimeMs: number;
  value: Buffer | null;
  rejection: Rejection;
}

export interface PartitionAggregate extends MinuteAggregate {
  topic: string;
  partition: number;
  /** Last offset of the partition in the batch the row came from. */
  batchLastOffset: bigint;
  modelVersion: string | null;
}

export const LOGS_PARTITION_COLUMNS = ['date', 'hour'] as const;

/**
 * Columns each table keeps file statistics for (table property delta.dataSkippingStatsColumns):
 * the ones queries filter on (time, Kafka position, status, latency, verdict). Long text (paths,
 * user agents, referrers) would cost the writer more than it ever saves a reader.
 */
export const STATS_COLUMNS = {
  logs: 'event_time,status,response_time_ms,response_bytes,kafka_partition,kafka_offset,kafka_time,ingest_time,anomaly_score,is_anomaly,cluster',
  anomalies:
    'event_time,status,response_time_ms,response_bytes,kafka_partition,kafka_offset,kafka_time,ingest_time,anomaly_score,is_anomaly,cluster',
  metrics: 'minute,request_count,server_error_count,client_error_count,anomaly_count,latency_p99_ms,kafka_partition,batch_last_offset',
  quarantine: 'kafka_partition,kafka_offset,kafka_time,ingest_time,payload_bytes',
} as const;
export const ANOMALIES_PARTITION_COLUMNS = ['date'] as const;
export const METRICS_PARTITION_COLUMNS = ['date'] as const;
export const QUARANTINE_PARTITION_COLUMNS = ['date'] as const;

const DAY_MS = 86_400_000;
let cachedDay = Number.NaN;
let cachedDate = '';

/** yyyy-mm-dd of a UTC timestamp; the last day is cached because a batch is mostly one day. */
export function utcDate(timestampMs: number): string {
  const day = Math.floor(timestampMs / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  return cachedDate;
}

export function utcHour(timestampMs: number): number {
  return Math.floor((((timestampMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000);
}

type ColumnKind = 'utf8' | 'int32' | 'int64' | 'float64' | 'timestamp' | 'bool';

function column<Row>(rows: readonly Row[], kind: ColumnKind, read: (row: Row) => unknown): Vector {
  switch (kind) {
    case 'utf8':
      return utf8Column(rows, read as (row: Row) => string | null);
    case 'int32':
      return int32Column(rows, read as (row: Row) => number | null);
    case 'int64':
      return int64Column(rows, read as (row: Row) => bigint | number | null);
    case 'float64':
      return float64Column(rows, read as (row: Row) => number | null);
    case 'timestamp':
      return timestampColumn(rows, read as (row: Row) => number | null);
    case 'bool':
      return boolColumn(rows, read as (row: Row) => boolean | null);
  }
}

function logColumns(records: readonly ScoredRecord[]): Record<string, Vector> {
  return {
    event_time: column(records, 'timestamp', (record) => record.timestampMs),
    date: column(records, 'utf8', (record) => utcDate(record.timestampMs)),
    hour: column(records, 'int32', (record) => utcHour(record.timestampMs)),
    client_ip: column(records, 'utf8', (record) => record.clientIp),
    method: column(records, 'utf8', (record) => record.method),
    path: column(records, 'utf8', (record) => record.path),
    query: column(records, 'utf8', (record) => record.query),
    path_template: column(records, 'utf8', (record) => record.pathTemplate),
    status: column(records, 'int32', (record) => record.status),
    response_time_ms: column(records, 'float64', (record) => record.responseTimeMs),
    response_bytes: column(records, 'int64', (record) => record.responseBytes),
    referrer: column(records, 'utf8', (record) => record.referrer),
    user_agent: column(records, 'utf8', (record) => record.userAgent),
    label: column(records, 'utf8', (record) => record.label),
    kafka_topic: column(records, 'utf8', (record) => record.topic),
    kafka_partition: column(records, 'int32', (record) => record.partition),
    kafka_offset: column(records, 'int64', (record) => record.offset),
    kafka_time: column(records, 'timestamp', (record) => record.kafkaTimestampMs),
    ingest_time: column(records, 'timestamp', (record) => record.ingestTimeMs),
    anomaly_score: column(records, 'float64', (record) => record.anomalyScore),
    is_anomaly: column(records, 'bool', (record) => record.isAnomaly),
    cluster: column(records, 'int32', (record) => record.cluster),
    model_version: column(records, 'utf8', (record) => record.modelVersion),
  };
}

export function logsTable(records: readonly ScoredRecord[]): Table {
  return new Table(logColumns(records));
}

export function anomaliesTable(records: readonly ScoredRecord[]): Table {
  return new Table({
    ...logColumns(records),
    reasons: column(records, 'utf8', (record) => record.reasons.join(',')),
  });
}

export function quarantineTable(messages: readonly QuarantinedMessage[]): Table {
  const payloads = messages.map(encodePayload);
  return new Table({
    date: column(messages, 'utf8', (message) => utcDate(message.ingestTimeMs)),
    kafka_topic: column(messages, 'utf8', (message) => message.topic),
    kafka_partition: column(messages, 'int32', (message) => message.partition),
    kafka_offset: column(messages, 'int64', (message) => message.offset),
    kafka_time: column(messages, 'timestamp', (message) => message.kafkaTimestampMs),
    ingest_time: column(messages, 'timestamp', (message) => message.ingestTimeMs),
    reason_code: column(messages, 'utf8', (message) => message.rejection.code),
    reason: column(messages, 'utf8', (message) => message.rejection.message),
    payload: utf8Column(payloads.map((payload) => payload.text)),
    payload_encoding: utf8Column(payloads.map((payload) => payload.encoding)),
    payload_bytes: column(messages, 'int64', (message) => BigInt(message.value?.length ?? 0)),
  });
}

/** Raw payload as text: UTF-8 when it is valid UTF-8, else base64 (so nothing is lost or mangled). */
export function encodePayload(message: { value: Buffer | null; rejection: Rejection }): {
  text: string | null;
  encoding: 'utf8' | 'base64' | null;
} {
  if (message.value === null) return { text: null, encoding: null };
  if (message.rejection.code === 'invalid_utf8') return { text: message.value.toString('base64'), encoding: 'base64' };
  return { text: message.value.toString('utf8'), encoding: 'utf8' };
}

export function metricsTable(aggregates: readonly PartitionAggregate[]): Table {
  return new Table({
    minute: column(aggregates, 'timestamp', (row) => row.minuteStartMs),
    date: column(aggregates, 'utf8', (row) => utcDate(row.minuteStartMs)),
    path_template: column(aggregates, 'utf8', (row) => row.pathTemplate),
    method: column(aggregates, 'utf8', (row) => row.method),
    request_count: column(aggregates, 'int64', (row) => BigInt(row.requestCount)),
    server_error_count: column(aggregates, 'int64', (row) => BigInt(row.serverErrorCount)),
    client_error_count: column(aggregates, 'int64', (row) => BigInt(row.clientErrorCount)),
    anomaly_count: column(aggregates, 'int64', (row) => BigInt(row.anomalyCount)),
    latency_p50_ms: column(aggregates, 'float64', (row) => row.latencyP50Ms),
    latency_p95_ms: column(aggregates, 'float64', (row) => row.latencyP95Ms),
    latency_p99_ms: column(aggregates, 'float64', (row) => row.latencyP99Ms),
    latency_max_ms: column(aggregates, 'float64', (row) => row.latencyMaxMs),
    latency_sum_ms: column(aggregates, 'float64', (row) => row.latencySumMs),
    latency_count: column(aggregates, 'int64', (row) => BigInt(row.latencyCount)),
    kafka_topic: column(aggregates, 'utf8', (row) => row.topic),
    kafka_partition: column(aggregates, 'int32', (row) => row.partition),
    batch_last_offset: column(aggregates, 'int64', (row) => row.batchLastOffset),
    model_version: column(aggregates, 'utf8', (row) => row.modelVersion),
  });
}

/** Logs- or anomalies-table rows back into records (search, followers and alerts read them back from Delta). */
export function recordsFromLogsTable(table: Table): ScoredRecord[] {
  const records: ScoredRecord[] = [];
  for (const row of table) {
    const value = row!.toJSON() as Record<string, unknown>;
    const reasons = typeof value.reasons === 'string' && value.reasons ? value.reasons.split(',') : [];
    records.push({
      timestampMs: Number(value.event_time),
      clientIp: value.client_ip as string,
      method: value.method as string,
      path: value.path as string,
      query: (value.query as string | null) ?? null,
      pathTemplate: value.path_template as string,
      status: value.status as number,
      responseTimeMs: (value.response_time_ms as number | null) ?? null,
      responseBytes: Number(value.response_bytes),
      referrer: (value.referrer as string | null) ?? null,
      userAgent: (value.user_agent as string | null) ?? null,
      label: (value.label as string | null) ?? null,
      topic: value.kafka_topic as string,
      partition: value.kafka_partition as number,
      offset: BigInt(value.kafka_offset as bigint),
      kafkaTimestampMs: Number(value.kafka_time),
      ingestTimeMs: Number(value.ingest_time),
      anomalyScore: value.anomaly_score as number,
      isAnomaly: value.is_anomaly as boolean,
      cluster: value.cluster as number,
      modelVersion: value.model_version as string,
      reasons,
    });
  }
  return records;
}
