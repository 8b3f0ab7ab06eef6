// Rows committed to Delta but not yet in the search engine, oldest first. While the engine is down
// the backlog grows (bounded: beyond the cap, the oldest rows are counted as needing a re-index
// from the Delta logs table) and drains in order when it is back.
import type { ScoredRecord } from './sinks.js';

export const DEFAULT_SEARCH_BACKLOG_ROWS = 2_000_000;

export class SearchBacklog {
  private chunks: ScoredRecord[][] = [];
  private rows = 0;
  /** Rows pushed out of the backlog by the cap; they must be re-indexed from Delta. */
  overflowed = 0;

  constructor(private readonly maxRows = DEFAULT_SEARCH_BACKLOG_ROWS) {}

  get size(): number {
    return this.rows;
  }

  add(records: readonly ScoredRecord[]): void {
    if (records.length === 0) return;
    this.chunks.push([...records]);
    this.rows += records.length;
    while (this.rows > this.maxRows && this.chunks.length > 1) {
      const oldest = this.chunks.shift()!;
      this.rows -= oldest.length;
      this.overflowed += oldest.length;
    }
  }

  /** Up to `count` oldest rows, without removing them. */
  peek(count: number): ScoredRecord[] {
    const out: ScoredRecord[] = [];
    for (const chunk of this.chunks) {
      for (const record of chunk) {
        if (out.length >= count) return out;
        out.push(record);
      }
    }
    return out;
  }

  /** Removes the `count` oldest rows (after they were indexed). */
  drop(count: number): void {
    let remaining = count;
    while (remaining > 0 && this.chunks.length) {
      const first = this.chunks[0]!;
      if (first.length <= remaining) {
        this.chunks.shift();
        remaining -= first.length;
        this.rows -= first.length;
      } else {
        this.chunks[0] = first.slice(remaining);
        this.rows -= remaining;
        remaining = 0;
      }
    }
  }
}
