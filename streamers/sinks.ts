// What the streamer needs from its outputs. clients/delta and clients/search are plugged in behind
// these small interfaces (streamers/lakehouse.ts, streamers/searchSink.ts); the unit tests plug in
// in-memory fakes with the same txn rules (clients/delta/conflicts.ts).
import type { LogRecord } from '../logs/record.js';
import type { PartitionAggregate, QuarantinedMessage } from './tables.js';

/**
 * A decoded record with its anomaly verdict, as written to every sink. The verdict is null while
 * the pipeline has no model for this site yet (learning): absent, not "normal".
 */
export interface ScoredRecord extends LogRecord {
  anomalyScore: number | null;
  isAnomaly: boolean | null;
  cluster: number | null;
  modelVersion: string | null;
  /** Features that made it anomalous, e.g. "status", "response_time_ms"; empty for normal rows. */
  reasons: string[];
}

export type TableName = 'logs' | 'anomalies' | 'metrics' | 'quarantine';

/** The rows each table takes. */
export interface TableRows {
  logs: ScoredRecord;
  anomalies: ScoredRecord;
  metrics: PartitionAggregate;
  quarantine: QuarantinedMessage;
}

/** A Delta transaction marker: "rows of appId up to version are in this table". */
export interface TxnMarker {
  appId: string;
  version: bigint;
  /**
   * The version the rows continue from (-1 = none): the commit is refused unless the table is at
   * exactly this version for appId. Without it, only a version the table already holds is refused.
   */
  expectedVersion?: bigint;
}

/** One table's part of a commit: its rows and one txn per Kafka partition they belong to. */
export type TableAppend = {
  [Table in TableName]: { table: Table; rows: readonly TableRows[Table][]; txns: readonly TxnMarker[] };
}[TableName];

export interface TxnRefusal {
  appId: string;
  /** The table's version for the appId (-1 = never committed). */
  committedVersion: bigint;
  reason: 'already-committed' | 'moved';
}

export type AppendResult =
  | { kind: 'committed'; tableVersion: number; durationMs: number }
  /** Nothing was written: the table refuses these txns. */
  | { kind: 'refused'; refused: TxnRefusal[] }
  /** The append failed; whether it committed is unknown (the reply may be what was lost). */
  | { kind: 'failed'; error: Error }
  /** Not attempted: an append of an earlier step did not commit. */
  | { kind: 'skipped' };

/** The lakehouse as the streamer writes it. */
export interface Lakehouse {
  /** The tables' txn versions for these appIds, read from storage now (-1 = never committed). */
  txnVersions(table: TableName, appIds: readonly string[]): Promise<Map<string, bigint>>;
  /** When an appId's txn was last committed (epoch ms), or undefined if never or not recorded. */
  txnUpdatedAt(table: TableName, appId: string): Promise<number | undefined>;
  /**
   * Commits in steps: the appends of a step together (one atomic commit per table), the next step
   * only when every append of this one committed. One result per append; failures are results.
   */
  commitSteps(steps: readonly (readonly TableAppend[])[]): Promise<AppendResult[][]>;
  /** Committed rows of one partition with after < offset <= through, oldest first, in chunks. */
  readRange(table: 'logs' | 'anomalies', topic: string, partition: number, after: bigint, through: bigint): AsyncIterable<ScoredRecord[]>;
}

/** The search engine, documents keyed topic-partition-offset so re-indexing overwrites. */
export interface SearchSink {
  /** Names the index family; the search watermark txn is per prefix. */
  readonly indexPrefix: string;
  index(records: readonly ScoredRecord[]): Promise<void>;
}

/** The appId of a partition's txn in a table. The logs table uses "<topic>-<partition>" as DESIGN.md says. */
export function txnAppId(table: TableName, topic: string, partition: number): string {
  return table === 'logs' ? `${topic}-${partition}` : `${table}:${topic}-${partition}`;
}

/** The appId of the txn (kept in the logs table) that records how far a partition is indexed in the search engine. */
export function searchAppId(indexPrefix: string, topic: string, partition: number): string {
  return `search:${indexPrefix}:${topic}-${partition}`;
}

/** The appId of the txn (kept in the logs table) that records how far a partition's alerts are sent. */
export function alertsAppId(topic: string, partition: number): string {
  return `alerts:${topic}-${partition}`;
}
