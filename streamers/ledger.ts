// Where each partition this streamer owns stands, free of I/O: what the tables hold, how far intake
// has read, and what the next batch continues from. Positions move in two ways only: the streamer's
// own commit (recordCommit), and a re-synchronisation from the tables' txn versions (resync), which
// voids every row and fetched batch of the partition taken before it. See streamers/README.md.
import type { TableName } from './sinks.js';

export type TableVersions = Record<TableName, bigint>;

/** A batch's share of one partition: the offsets (base, last], taken in one generation. */
export interface PartitionRange {
  generation: number;
  /** The logs table's txn version the rows continue from. */
  base: bigint;
  /** The last offset of the partition in the batch, bad messages included: the batch's txn version. */
  last: bigint;
}

/** Stamped on a fetched batch when it arrives, checked when intake takes it. */
export interface FetchTag {
  partition: number;
  epoch: number;
  /** Kafka had a seek pending for the partition: the batch was fetched before it. */
  staleOnArrival: boolean;
}

export type Admission =
  /** Take the messages with offset >= from. */
  | { kind: 'take'; from: bigint; gap?: { from: bigint; to: bigint } }
  | { kind: 'drop' }
  /** The fetch starts past what intake covered: seek back to offset once before believing the gap. */
  | { kind: 'reseek'; offset: bigint };

interface PartitionState {
  /** Bumped by every resync: rows and batches of an older generation are void. */
  generation: number;
  /** Bumped by every seek: batches fetched under an older epoch are void. */
  fetchEpoch: number;
  /** The first offset intake has not covered yet. */
  nextOffset: bigint;
  /** nextOffset when intake last sought back over a gap. */
  gapSeekAt?: bigint;
  /** The last offset handed to a batch: where the next batch continues from. */
  cutThrough: bigint;
  /** The tables' txn versions as this streamer knows them: read at resync, advanced by its own commits. */
  committed: TableVersions;
}

export class PartitionLedger {
  private readonly states = new Map<number, PartitionState>();
  private generations = 0;

  owns(partition: number): boolean {
    return this.states.has(partition);
  }

  owned(): number[] {
    return [...this.states.keys()].sort((left, right) => left - right);
  }

  /** Owns the partition from the tables' versions: intake resumes right after the logs version. */
  resync(partition: number, versions: TableVersions): bigint {
    const previous = this.states.get(partition);
    this.generations += 1;
    this.states.set(partition, {
      generation: this.generations,
      fetchEpoch: (previous?.fetchEpoch ?? 0) + 1,
      nextOffset: versions.logs + 1n,
      cutThrough: versions.logs,
      committed: { ...versions },
    });
    return versions.logs + 1n;
  }

  revoke(partition: number): void {
    this.states.delete(partition);
  }

  generation(partition: number): number | undefined {
    return this.states.get(partition)?.generation;
  }

  committed(partition: number, table: TableName): bigint | undefined {
    return this.states.get(partition)?.committed[table];
  }

  /** Where intake reads next (a kept partition is sought back here after a rebalance). */
  nextOffset(partition: number): bigint | undefined {
    return this.states.get(partition)?.nextOffset;
  }

  /** A seek of a partition that keeps its rows (after a rebalance): batches fetched before it are void. */
  seek(partition: number): bigint | undefined {
    const state = this.states.get(partition);
    if (!state) return undefined;
    state.fetchEpoch += 1;
    return state.nextOffset;
  }

  tagFetch(partition: number, staleOnArrival: boolean): FetchTag {
    return { partition, epoch: this.states.get(partition)?.fetchEpoch ?? -1, staleOnArrival };
  }

  /**
   * Whether intake takes a fetched batch. A batch continues what intake covered when its fetch
   * started at or before the next offset; one that starts past it was read ahead before a seek
   * (dropped, and the partition sought back once), unless it is the first fetch after that seek:
   * then the offsets in between are not in the topic (retention, transaction markers).
   */
  admit(tag: FetchTag, fetchedOffset: bigint): Admission {
    const state = this.states.get(tag.partition);
    if (!state || tag.epoch !== state.fetchEpoch || tag.staleOnArrival) return { kind: 'drop' };
    if (fetchedOffset <= state.nextOffset) return { kind: 'take', from: state.nextOffset };
    if (state.gapSeekAt === state.nextOffset) {
      const gap = { from: state.nextOffset, to: fetchedOffset - 1n };
      state.gapSeekAt = undefined;
      return { kind: 'take', from: fetchedOffset, gap };
    }
    state.gapSeekAt = state.nextOffset;
    state.fetchEpoch += 1;
    return { kind: 'reseek', offset: state.nextOffset };
  }

  /** Intake covered the partition up to and including offset (a message, or the fetch's last offset). */
  covered(partition: number, offset: bigint): void {
    const state = this.states.get(partition);
    if (state && offset >= state.nextOffset) state.nextOffset = offset + 1n;
  }

  /** Hands the partition's rows through `last` to a batch; the next batch continues from there. */
  cut(partition: number, last: bigint): PartitionRange {
    const state = this.states.get(partition)!;
    const range = { generation: state.generation, base: state.cutThrough, last };
    state.cutThrough = last;
    return range;
  }

  /** True when the range was taken in the partition's current generation and continues from what the logs table holds. */
  isLive(partition: number, range: PartitionRange): boolean {
    const state = this.states.get(partition);
    return state !== undefined && state.generation === range.generation && state.committed.logs === range.base;
  }

  /**
   * This streamer's commit of `table` for the partition through `version`, or a version the table
   * was read at (followers and quarantine re-read after an unknown outcome). The logs version only
   * moves forward from exactly where it was.
   */
  recordCommit(partition: number, table: TableName, version: bigint, generation: number): void {
    const state = this.states.get(partition);
    if (!state || state.generation !== generation) return;
    if (version > state.committed[table]) state.committed[table] = version;
  }
}
