// Micro-batch bookkeeping, free of I/O: the rows waiting to be written, when they are due (max rows
// or max wait), and a batch cut from them with each partition's range.
import type { PartitionLedger, PartitionRange } from './ledger.js';
import type { ScoredRecord } from './sinks.js';
import type { QuarantinedMessage } from './tables.js';

export interface BatchLimits {
  maxRows: number;
  /** Message bytes a batch holds at most (whichever of rows and bytes comes first). */
  maxBytes?: number;
  /** The latency budget: the oldest row waits at most this long for the batch to fill. */
  maxWaitMs: number;
}

/** A message intake took: decoded and scored, or refused with its reason (kept as they are: no wrapper per row). */
export type Accepted = ScoredRecord | QuarantinedMessage;

export function isRejected(row: Accepted): row is QuarantinedMessage {
  return 'rejection' in row;
}

/** What one hand-off to the committer holds. */
export interface Batch {
  good: ScoredRecord[];
  bad: QuarantinedMessage[];
  /** Per partition: the offsets (base, last] the batch holds and the generation they were taken in. */
  ranges: Map<number, PartitionRange>;
}

/** The rows waiting to be written, in arrival order (per-partition order is kept). */
export class PendingBatch<Row extends { partition: number }> {
  private rows: Row[] = [];
  private bytes = 0;
  private firstAddedMs: number | undefined;

  get size(): number {
    return this.rows.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  add(row: Row, nowMs: number, bytes = 0): void {
    if (this.rows.length === 0) this.firstAddedMs = nowMs;
    this.rows.push(row);
    this.bytes += bytes;
  }

  isFull(limits: BatchLimits): boolean {
    return this.rows.length >= limits.maxRows || (limits.maxBytes !== undefined && this.bytes >= limits.maxBytes);
  }

  /** Full, or the oldest row has waited max wait. */
  isDue(nowMs: number, limits: BatchLimits): boolean {
    if (this.rows.length === 0) return false;
    return this.isFull(limits) || nowMs - (this.firstAddedMs ?? nowMs) >= limits.maxWaitMs;
  }

  /** Removes and returns every pending row. */
  take(): Row[] {
    const rows = this.rows;
    this.rows = [];
    this.bytes = 0;
    this.firstAddedMs = undefined;
    return rows;
  }

  /** Forgets the rows of partitions that fail `keep` (moved away, or re-synchronised); returns how many. */
  dropPartitions(keep: (partition: number) => boolean): number {
    const before = this.rows.length;
    this.rows = this.rows.filter((row) => keep(row.partition));
    // Bytes of the rows kept are not known per row: the estimate shrinks in proportion.
    this.bytes = before ? Math.round((this.bytes * this.rows.length) / before) : 0;
    if (this.rows.length === 0) this.firstAddedMs = undefined;
    return before - this.rows.length;
  }
}

/** Last offset per partition among rows: the txn versions of a commit. */
export function lastOffsets(rows: Iterable<{ partition: number; offset: bigint }>): Map<number, bigint> {
  const last = new Map<number, bigint>();
  for (const row of rows) {
    const current = last.get(row.partition);
    if (current === undefined || row.offset > current) last.set(row.partition, row.offset);
  }
  return last;
}

/** Turns pending rows into a batch, taking each partition's range from the ledger. */
export function cutBatch(rows: readonly Accepted[], ledger: PartitionLedger): Batch {
  const batch: Batch = { good: [], bad: [], ranges: new Map() };
  for (const row of rows) {
    if (isRejected(row)) batch.bad.push(row);
    else batch.good.push(row);
  }
  for (const [partition, last] of lastOffsets(rows)) if (ledger.owns(partition)) batch.ranges.set(partition, ledger.cut(partition, last));
  return batch;
}
