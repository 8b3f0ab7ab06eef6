// Work for the search engine, oldest first: rows committed to Delta but not yet indexed, or ranges
// of the Delta logs table to read back (after a crash, or when an outage outgrew memory). While the
// engine is down the queue grows; it drains in order when the engine is back.
import type { ScoredRecord } from './sinks.js';

export const DEFAULT_SEARCH_BACKLOG_ROWS = 1_000_000;

export type SearchWork =
  /** Per partition, the rows cover the logs versions (previous, through]. */
  | { kind: 'records'; records: ScoredRecord[]; through: Map<number, bigint>; previous: ReadonlyMap<number, bigint> }
  | { kind: 'range'; partition: number; afterOffset: bigint; throughOffset: bigint; forgotten?: boolean };

export class SearchBacklog {
  private readonly work: SearchWork[] = [];
  private rows = 0;

  constructor(private readonly maxRows = DEFAULT_SEARCH_BACKLOG_ROWS) {}

  /** Rows held in memory (ranges to read back from Delta are not counted). */
  get size(): number {
    return this.rows;
  }

  get isEmpty(): boolean {
    return this.work.length === 0;
  }

  /**
   * Queues a committed batch. Past the memory cap the batch is queued as ranges of the Delta logs
   * table instead (`previous` = per partition, the version before this batch), merged with a range
   * just before it.
   */
  add(records: ScoredRecord[], through: Map<number, bigint>, previous: ReadonlyMap<number, bigint>): void {
    // Once a range is queued, later batches queue as ranges too, so watermarks only move forward in order.
    const rangeQueued = this.work.some((entry) => entry.kind === 'range');
    if (!rangeQueued && this.rows + records.length <= this.maxRows) {
      this.work.push({ kind: 'records', records, through, previous });
      this.rows += records.length;
      return;
    }
    for (const [partition, throughOffset] of through) this.addRange(partition, previous.get(partition) ?? -1n, throughOffset);
  }

  addRange(partition: number, afterOffset: bigint, throughOffset: bigint): void {
    if (throughOffset <= afterOffset) return;
    const last = [...this.work].reverse().find((entry) => entry.kind === 'range' && entry.partition === partition && !entry.forgotten);
    if (last && last.kind === 'range' && last.throughOffset === afterOffset) {
      last.throughOffset = throughOffset;
      return;
    }
    this.work.push({ kind: 'range', partition, afterOffset, throughOffset });
  }

  /**
   * Work queued for a partition stops counting towards its watermark (it moved away, or came back
   * with a new one). Items stay where they are, since the oldest may be in progress.
   */
  forget(partition: number): void {
    for (const entry of this.work) {
      if (entry.kind === 'records') entry.through.delete(partition);
      else if (entry.partition === partition) entry.forgotten = true;
    }
  }

  peek(): SearchWork | undefined {
    return this.work[0];
  }

  /** Removes the oldest work item once it is fully indexed. */
  shift(): SearchWork | undefined {
    const first = this.work.shift();
    if (first?.kind === 'records') this.rows -= first.records.length;
    return first;
  }
}
