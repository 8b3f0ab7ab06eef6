// Feeds the search engine with committed logs rows, separately from the Delta commits so a slow or
// absent engine never holds up the lakehouse. Work comes oldest first (SearchBacklog): rows this
// streamer committed, or ranges of the logs table to read back (after a crash, a rebalance, a commit
// whose reply was lost, or an outage that outgrew memory). Documents have deterministic ids, so
// indexing twice overwrites. A partition's watermark moves only over ranges indexed here, in order.
import type { Logger } from 'pino';
import type { PartitionRange } from './ledger.js';
import { observeSearchBulk } from './metrics.js';
import { SearchBacklog } from './searchBacklog.js';
import type { Lakehouse, ScoredRecord, SearchSink } from './sinks.js';

const SEARCH_CHUNK_ROWS = 2500;
const SEARCH_CONCURRENCY = 2;

export interface SearchFeederOptions {
  search: SearchSink;
  lakehouse: Lakehouse;
  topic: string;
  logger: Logger;
  /** Committed rows kept in memory; beyond, they are read back from Delta. */
  backlogRows?: number;
}

export class SearchFeeder {
  readonly counters = { indexed: 0, failures: 0 };
  private readonly backlog: SearchBacklog;
  /** Per partition: logs version through which every row is indexed. */
  private readonly indexedThrough = new Map<number, bigint>();
  /** Per partition: logs version through which rows are queued (or indexed). */
  private readonly queuedThrough = new Map<number, bigint>();
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: SearchFeederOptions) {
    this.backlog = new SearchBacklog(options.backlogRows);
  }

  get indexPrefix(): string {
    return this.options.search.indexPrefix;
  }

  get backlogRows(): number {
    return this.backlog.size;
  }

  get idle(): boolean {
    return this.backlog.isEmpty;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Owns a partition indexed through `watermark` whose logs table holds rows through `logsVersion`. */
  assign(partition: number, watermark: bigint, logsVersion: bigint): void {
    this.backlog.forget(partition);
    this.indexedThrough.set(partition, watermark);
    this.queuedThrough.set(partition, watermark);
    this.queueRange(partition, logsVersion);
  }

  revoke(partition: number): void {
    this.backlog.forget(partition);
    this.indexedThrough.delete(partition);
    this.queuedThrough.delete(partition);
  }

  /** The logs table holds the partition through logsVersion (another writer's commits included): index what is not queued yet. */
  caughtUp(partition: number, logsVersion: bigint): void {
    this.queueRange(partition, logsVersion);
  }

  /** A batch's committed rows: in memory for ranges this streamer committed, read back for the others. */
  committed(
    ours: ReadonlyMap<number, { range: PartitionRange; records: readonly ScoredRecord[] }>,
    readBack: ReadonlyMap<number, PartitionRange>,
  ): void {
    const records: ScoredRecord[] = [];
    const through = new Map<number, bigint>();
    const previous = new Map<number, bigint>();
    for (const [partition, { range, records: rows }] of ours) {
      const queued = this.queuedThrough.get(partition);
      if (queued === undefined) continue;
      if (queued < range.base) this.queueRange(partition, range.base);
      if (range.last <= (this.queuedThrough.get(partition) ?? -1n)) continue;
      for (const record of rows) records.push(record);
      through.set(partition, range.last);
      previous.set(partition, range.base);
      this.queuedThrough.set(partition, range.last);
    }
    if (through.size) this.backlog.add(records, through, previous);
    for (const [partition, range] of readBack) this.queueRange(partition, range.last);
    this.wake?.();
  }

  watermark(partition: number): bigint | undefined {
    return this.indexedThrough.get(partition);
  }

  /** Waits (bounded) for the backlog to empty, e.g. before a clean stop. */
  async drain(timeoutMs: number): Promise<void> {
    const deadlineMs = Date.now() + timeoutMs;
    while (!this.backlog.isEmpty && Date.now() < deadlineMs) {
      this.wake?.();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private queueRange(partition: number, through: bigint): void {
    const queued = this.queuedThrough.get(partition);
    if (queued === undefined || through <= queued) return;
    this.backlog.addRange(partition, queued, through);
    this.queuedThrough.set(partition, through);
    this.wake?.();
  }

  /** Moves the watermark over (from, to] only when it continues exactly from it (work queued before a re-assignment does not). */
  private advance(partition: number, from: bigint, to: bigint): void {
    if (this.indexedThrough.get(partition) === from) this.indexedThrough.set(partition, to);
  }

  /** Oldest work first; failures back off and retry the same work. */
  private async run(): Promise<void> {
    let backoffMs = 250;
    const { search, lakehouse, topic, logger } = this.options;
    while (!this.stopped) {
      const work = this.backlog.peek();
      if (!work) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 200);
        });
        continue;
      }
      try {
        if (work.kind === 'records') {
          await indexConcurrently(search, work.records, (count) => {
            this.counters.indexed += count;
          });
          for (const [partition, version] of work.through) this.advance(partition, work.previous.get(partition)!, version);
        } else if (!work.forgotten) {
          // The range may grow while it is read (later batches merge into it): read what it was now.
          const throughOffset = work.throughOffset;
          for await (const chunk of lakehouse.readRange('logs', topic, work.partition, work.afterOffset, throughOffset)) {
            await indexConcurrently(search, chunk, (count) => {
              this.counters.indexed += count;
            });
          }
          this.advance(work.partition, work.afterOffset, throughOffset);
          if (work.throughOffset > throughOffset) {
            work.afterOffset = throughOffset;
            continue;
          }
        }
        this.backlog.shift();
        backoffMs = 250;
      } catch (error) {
        this.counters.failures += 1;
        if (this.counters.failures % 20 === 1) {
          logger.warn(
            { error: (error as Error).message, backlogRows: this.backlog.size },
            'search indexing failed; Delta keeps flowing, search catches up when the engine is back',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }
}

/** Bulk requests of SEARCH_CHUNK_ROWS, SEARCH_CONCURRENCY at a time: the engine indexes one while parsing the next. */
async function indexConcurrently(search: SearchSink, records: readonly ScoredRecord[], onIndexed: (count: number) => void): Promise<void> {
  const chunks: ScoredRecord[][] = [];
  for (let start = 0; start < records.length; start += SEARCH_CHUNK_ROWS) chunks.push(records.slice(start, start + SEARCH_CHUNK_ROWS));
  for (let start = 0; start < chunks.length; start += SEARCH_CONCURRENCY) {
    await Promise.all(
      chunks.slice(start, start + SEARCH_CONCURRENCY).map(async (chunk) => {
        const startedMs = performance.now();
        try {
          await search.index(chunk);
        } catch (error) {
          observeSearchBulk(chunk.length, performance.now() - startedMs, true);
          throw error;
        }
        observeSearchBulk(chunk.length, performance.now() - startedMs, false);
        onIndexed(chunk.length);
      }),
    );
  }
}
