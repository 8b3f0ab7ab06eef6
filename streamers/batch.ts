// Micro-batch bookkeeping, free of I/O: which offsets of which partitions this streamer owns and
// has accepted, and when the pending batch is due (max rows or max wait).

export interface BatchLimits {
  maxRows: number;
  maxWaitMs: number;
}

/** Offset bookkeeping per owned partition. "Accepted" means buffered or already committed. */
export class PartitionPositions {
  private readonly lastAccepted = new Map<number, bigint>();

  /** Takes ownership; `committedVersion` is the last offset already in the table (-1 when none). */
  assign(partition: number, committedVersion: bigint): void {
    this.lastAccepted.set(partition, committedVersion);
  }

  revoke(partition: number): void {
    this.lastAccepted.delete(partition);
  }

  owns(partition: number): boolean {
    return this.lastAccepted.has(partition);
  }

  owned(): number[] {
    return [...this.lastAccepted.keys()].sort((left, right) => left - right);
  }

  /** Offset to read next for a partition. */
  nextOffset(partition: number): bigint | undefined {
    const last = this.lastAccepted.get(partition);
    return last === undefined ? undefined : last + 1n;
  }

  /**
   * True when the message is new: the partition is owned and the offset is past everything accepted.
   * Redeliveries after a seek, a rebalance or a consumer restart are refused here, so nothing is
   * processed twice even before the Delta commit's txn check.
   */
  accept(partition: number, offset: bigint): boolean {
    const last = this.lastAccepted.get(partition);
    if (last === undefined || offset <= last) return false;
    this.lastAccepted.set(partition, offset);
    return true;
  }
}

/** The rows waiting to be written, in arrival order (per-partition order is kept). */
export class PendingBatch<Row extends { partition: number }> {
  private rows: Row[] = [];
  private firstAddedMs: number | undefined;

  get size(): number {
    return this.rows.length;
  }

  add(row: Row, nowMs: number): void {
    if (this.rows.length === 0) this.firstAddedMs = nowMs;
    this.rows.push(row);
  }

  isFull(limits: BatchLimits): boolean {
    return this.rows.length >= limits.maxRows;
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
    this.firstAddedMs = undefined;
    return rows;
  }

  /** Forgets rows of partitions this streamer no longer owns. */
  dropPartitions(keep: (partition: number) => boolean): number {
    const before = this.rows.length;
    this.rows = this.rows.filter((row) => keep(row.partition));
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
