// What the streamer needs from its outputs. clients/delta and clients/search are plugged in behind
// these small interfaces (see streamers/deltaSinks.ts, streamers/searchSink.ts).
import type { Table } from 'apache-arrow';
import type { LogRecord } from '../logs/record.js';

/** A Delta transaction marker: "rows of appId up to version are in this table". */
export interface TxnMarker {
  appId: string;
  version: bigint;
  /** The version this batch continues from (-1 = none); the commit is refused if another writer went past it. */
  previousVersion?: bigint;
}

export type AppendOutcome = { kind: 'committed'; tableVersion: number } | { kind: 'duplicate' };

/** One Delta table the streamer appends to, one atomic commit per call. */
export interface TableSink {
  readonly name: string;
  /** Latest committed txn version of appId, or undefined when it never committed. */
  txnVersion(appId: string): Promise<bigint | undefined>;
  /** Appends rows and txns in one commit; 'duplicate' when a txn of the same appId at >= version is already there. */
  append(rows: Table, txns: TxnMarker[]): Promise<AppendOutcome>;
}

export type TableName = 'logs' | 'anomalies' | 'metrics' | 'quarantine';

/** One table's part of a batch's commits. */
export interface TableAppend {
  table: TableName;
  rows: Table;
  txns: TxnMarker[];
}

export type TableAppendResult = { outcome: AppendOutcome; durationMs: number } | { error: Error };

export interface LakehouseSinks {
  logs: TableSink & LogsReader;
  anomalies: TableSink;
  metrics: TableSink;
  quarantine: TableSink;
  /**
   * A batch's commits in one hand-off: the `first` appends together, then `last` only when every
   * one of them committed (`last` has no result otherwise). Failures are results, not rejections.
   */
  commitInOrder(first: TableAppend[], last?: TableAppend): Promise<{ first: TableAppendResult[]; last?: TableAppendResult }>;
}

/** A decoded record with its anomaly verdict, as written to every sink. */
export interface ScoredRecord extends LogRecord {
  anomalyScore: number;
  isAnomaly: boolean;
  cluster: number;
  modelVersion: string;
  /** Features that made it anomalous, e.g. "status", "response_time_ms"; empty for normal rows. */
  reasons: string[];
}

/** The search engine, documents keyed topic-partition-offset so re-indexing overwrites. */
export interface SearchSink {
  /** Names the index family; the search watermark txn is per prefix. */
  readonly indexPrefix: string;
  index(records: readonly ScoredRecord[]): Promise<void>;
}

/** Reads committed rows back from the logs table (search catch-up after a crash or a long outage). */
export interface LogsReader {
  /** Rows of one partition with afterOffset < offset <= throughOffset, in chunks. */
  readRange(topic: string, partition: number, afterOffset: bigint, throughOffset: bigint): AsyncIterable<ScoredRecord[]>;
}

/** appId of the txn that records how far a partition is indexed in the search engine (kept in the logs table). */
export function searchAppId(indexPrefix: string, topic: string, partition: number): string {
  return `search:${indexPrefix}:${topic}-${partition}`;
}

/** appId of a partition's txn in a table. The logs table uses "<topic>-<partition>" as DESIGN.md says. */
export function txnAppId(table: TableName, topic: string, partition: number): string {
  return table === 'logs' ? `${topic}-${partition}` : `${table}:${topic}-${partition}`;
}
