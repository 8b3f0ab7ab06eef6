// The table committer: writes each batch to the lakehouse under the exactly-once invariant
// (streamers/README.md). A partition's rows are committed only if, in the same atomic commit, the
// table's txn for it is exactly the version they continue from; a refused partition is dropped from
// the batch and re-synchronised from the tables, never marked as written. Per batch, in order:
//   quarantine (bad messages, after the dead-letter topic) -> logs (the checkpoint) -> anomalies and
//   metrics_1m, which follow the logs table: their rows are derived from committed logs rows only,
//   from memory when this streamer committed them, else read back from the logs table.
import type { Logger } from 'pino';
import { aggregatePerMinute } from './aggregate.js';
import type { Batch } from './batch.js';
import { StreamerFailedError } from './errors.js';
import type { PartitionLedger, PartitionRange } from './ledger.js';
import { observeDeltaCommit, observeDeltaConflict } from './metrics.js';
import type { AppendResult, Lakehouse, ScoredRecord, TableAppend, TableName, TxnMarker } from './sinks.js';
import { txnAppId } from './sinks.js';
import type { PartitionAggregate, QuarantinedMessage } from './tables.js';

/** The tables that follow the logs table. */
export type FollowerTable = 'anomalies' | 'metrics';
const FOLLOWERS: readonly FollowerTable[] = ['anomalies', 'metrics'];

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Consecutive failures for this long stop the streamer (nothing is marked written: a restart resumes from the tables). */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, maxMs: 5_000, budgetMs: 120_000 };

export interface CommitterOptions {
  topic: string;
  lakehouse: Lakehouse;
  ledger: PartitionLedger;
  /** Re-reads the partition's versions from the tables, re-seeks it and voids its rows (the streamer does it). */
  resync(partition: number, reason: string): Promise<void>;
  /** Sends bad messages to the dead-letter topic (before they are committed to quarantine). */
  sendDeadLetters(messages: readonly QuarantinedMessage[]): Promise<void>;
  logger: Logger;
  retry?: RetryPolicy;
  /** True once the streamer stops: failures are retried for a short while only, then the batch is abandoned. */
  stopping(): boolean;
}

/** What became of a batch. */
export interface BatchOutcome {
  /** Logs rows this streamer committed, per partition with the range they cover. */
  ours: Map<number, { range: PartitionRange; records: ScoredRecord[] }>;
  /** Ranges whose logs commit landed but whose rows may not be the ones in memory (the reply was lost): read back from Delta. */
  readBack: Map<number, PartitionRange>;
  /** Partitions dropped from the batch (another writer moved them on); they were re-synchronised. */
  dropped: Map<number, PartitionRange>;
  quarantined: number;
  anomalies: number;
  metricsRows: number;
  /** Commit durations, for metrics: side tables and the logs table. */
  quarantineMs: number;
  logsMs: number;
  followersMs: number;
}

/** Failed for good: the batch was abandoned while stopping, or failures outlasted the retry budget. */
export class CommitAbandonedError extends Error {}

export class TableCommitter {
  private readonly retry: RetryPolicy;

  constructor(private readonly options: CommitterOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  private get ledger(): PartitionLedger {
    return this.options.ledger;
  }

  /** Writes one batch; resolves when every live partition's rows are committed (or dropped), rejects only when giving up. */
  async commit(batch: Batch): Promise<BatchOutcome> {
    const outcome: BatchOutcome = {
      ours: new Map(),
      readBack: new Map(),
      dropped: new Map(),
      quarantined: 0,
      anomalies: 0,
      metricsRows: 0,
      quarantineMs: 0,
      logsMs: 0,
      followersMs: 0,
    };
    const ranges = new Map<number, PartitionRange>();
    for (const [partition, range] of batch.ranges) {
      if (this.ledger.isLive(partition, range)) ranges.set(partition, range);
      else if (this.ledger.generation(partition) === range.generation) {
        // The logs table is not where this range continues from: a bug if it ever happens, never a reason to write.
        await this.drop(partition, range, outcome, 'the batch does not continue from the logs version');
      }
    }
    // Followers behind the logs table (a crash between commits, another writer) catch up first, so this batch can follow.
    for (const [partition, range] of ranges) await this.catchUpFollowers(partition, range.base);

    const deadLetters = batch.bad.filter((message) => this.isNewFor('quarantine', message.partition, message.offset, ranges));
    if (deadLetters.length) await this.withRetry('send dead letters', () => this.options.sendDeadLetters(deadLetters));

    const failures = new FailureClock(this.retry, this.options.stopping);
    while (ranges.size > 0) {
      const plan = this.plan(batch, ranges);
      const steps: TableAppend[][] = [];
      if (plan.quarantine) steps.push([plan.quarantine]);
      steps.push([plan.logs]);
      if (plan.followers.length) steps.push(plan.followers);
      const results = await this.options.lakehouse.commitSteps(steps);
      let step = 0;
      if (plan.quarantine) {
        const result = results[step++]![0]!;
        if (result.kind === 'committed') {
          this.recordAll(plan.quarantine, ranges);
          outcome.quarantined += plan.quarantine.rows.length;
          outcome.quarantineMs = result.durationMs;
          observeDeltaCommit('quarantine', result.durationMs);
        } else {
          await this.settleUnclear(plan.quarantine, result, ranges, outcome, failures);
          continue;
        }
      }
      const logsResult = results[step++]![0]!;
      if (logsResult.kind !== 'committed') {
        await this.settleUnclear(plan.logs, logsResult, ranges, outcome, failures);
        continue;
      }
      outcome.logsMs = logsResult.durationMs;
      observeDeltaCommit('logs', logsResult.durationMs);
      for (const [partition, range] of ranges) {
        this.ledger.recordCommit(partition, 'logs', range.last, range.generation);
        outcome.ours.set(partition, { range, records: plan.grouped.get(partition) ?? [] });
      }
      const followerResults = plan.followers.length ? results[step]! : [];
      plan.followers.forEach((append, index) => {
        const result = followerResults[index]!;
        if (result.kind !== 'committed') return; // caught up below, from memory
        this.recordAll(append, ranges);
        observeDeltaCommit(append.table, result.durationMs);
        if (append.table === 'anomalies') outcome.anomalies += append.rows.length;
        else outcome.metricsRows += append.rows.length;
        outcome.followersMs = Math.max(outcome.followersMs, result.durationMs);
      });
      break;
    }
    // Whatever the happy path did not commit to the followers (no rows in memory for a lagging
    // partition, a refused or failed follower commit) is committed now.
    for (const [partition, { range, records }] of outcome.ours) {
      for (const table of FOLLOWERS) {
        const written = await this.advanceFollower(table, partition, range.last, { after: range.base, records });
        if (table === 'anomalies') outcome.anomalies += written;
        else outcome.metricsRows += written;
      }
    }
    for (const [partition, range] of outcome.readBack) {
      for (const table of FOLLOWERS) await this.advanceFollower(table, partition, range.last);
    }
    return outcome;
  }

  /** Brings the partition's follower tables up to `through` from the logs table (after a resync, a restart). */
  async catchUpFollowers(partition: number, through?: bigint): Promise<void> {
    const logs = through ?? this.ledger.committed(partition, 'logs');
    if (logs === undefined) return;
    for (const table of FOLLOWERS) await this.advanceFollower(table, partition, logs);
  }

  /** What a batch's commits hold for the live ranges. */
  private plan(batch: Batch, ranges: ReadonlyMap<number, PartitionRange>) {
    const { topic } = this.options;
    const grouped = groupByPartition(batch.good);
    // The usual batch has every partition live: its rows as they are, without a copy.
    const good =
      grouped.size === ranges.size && [...grouped.keys()].every((partition) => ranges.has(partition))
        ? batch.good
        : [...ranges.keys()].flatMap((partition) => grouped.get(partition) ?? []);
    const bad = batch.bad.filter((message) => this.isNewFor('quarantine', message.partition, message.offset, ranges));
    const quarantinePartitions = new Set(bad.map((message) => message.partition));
    const quarantine: TableAppend | undefined = bad.length
      ? {
          table: 'quarantine',
          rows: bad,
          txns: [...quarantinePartitions].map((partition) =>
            this.txn('quarantine', partition, ranges.get(partition)!.last, this.ledger.committed(partition, 'quarantine')!),
          ),
        }
      : undefined;
    const logs: TableAppend = {
      table: 'logs',
      rows: good,
      txns: [...ranges].map(([partition, range]) => this.txn('logs', partition, range.last, range.base)),
    };
    // Followers go in the same hand-off when they stand exactly where this batch starts.
    const followers: TableAppend[] = [];
    for (const table of FOLLOWERS) {
      const partitions = [...ranges].filter(([partition, range]) => this.ledger.committed(partition, table) === range.base);
      if (partitions.length === 0) continue;
      const txns = partitions.map(([partition, range]) => this.txn(table, partition, range.last, range.base));
      const records = partitions.length === ranges.size ? good : partitions.flatMap(([partition]) => grouped.get(partition) ?? []);
      followers.push(
        table === 'anomalies'
          ? { table, rows: records.filter((record) => record.isAnomaly), txns }
          : {
              table,
              rows: aggregateByPartition(topic, records, new Map(partitions.map(([partition, range]) => [partition, range.last]))),
              txns,
            },
      );
    }
    return { good, grouped, quarantine, logs, followers };
  }

  private txn(table: TableName, partition: number, version: bigint, expectedVersion: bigint): TxnMarker {
    return { appId: txnAppId(table, this.options.topic, partition), version, expectedVersion };
  }

  private isNewFor(table: TableName, partition: number, offset: bigint, ranges: ReadonlyMap<number, PartitionRange>): boolean {
    return ranges.has(partition) && offset > (this.ledger.committed(partition, table) ?? -1n);
  }

  /** Records a committed append's txns as this streamer's commits. */
  private recordAll(append: TableAppend, ranges: ReadonlyMap<number, PartitionRange>): void {
    for (const txn of append.txns) {
      const partition = partitionOf(txn.appId);
      const range = ranges.get(partition);
      if (range) this.ledger.recordCommit(partition, append.table, txn.version, range.generation);
    }
  }

  /**
   * An append of the batch did not commit. Refused txns drop their partitions (re-synchronised).
   * After a failure the outcome is unknown, so the table is asked: a partition at the batch's
   * version was written (by this attempt, or by a writer with the same range), one still at the
   * version the batch continues from is retried, anything else was moved on by another writer.
   */
  private async settleUnclear(
    append: TableAppend,
    result: AppendResult,
    ranges: Map<number, PartitionRange>,
    outcome: BatchOutcome,
    failures: FailureClock,
  ): Promise<void> {
    const table = append.table;
    if (result.kind === 'refused') {
      observeDeltaConflict(table, 'refused');
      for (const refusal of result.refused) {
        const partition = partitionOf(refusal.appId);
        const range = ranges.get(partition);
        if (!range) continue;
        this.options.logger.warn(
          {
            table,
            partition,
            batch: `${range.base}..${range.last}`,
            tableVersion: refusal.committedVersion.toString(),
            reason: refusal.reason,
          },
          'the table is not where this batch continues from: dropping the partition from the batch and re-synchronising',
        );
        ranges.delete(partition);
        await this.drop(partition, range, outcome, `${table} txn ${refusal.reason} at ${refusal.committedVersion}`);
      }
      return;
    }
    if (result.kind !== 'failed') return;
    observeDeltaConflict(table, 'failed');
    this.options.logger.warn({ table, error: result.error.message }, 'Delta commit failed; asking the table what it holds');
    await failures.failed(result.error, `commit to ${table}`);
    const versions = await this.withRetry(`read the ${table} table's txn versions`, () =>
      this.options.lakehouse.txnVersions(
        table,
        append.txns.map((txn) => txn.appId),
      ),
    );
    for (const txn of append.txns) {
      const partition = partitionOf(txn.appId);
      const range = ranges.get(partition);
      if (!range) continue;
      const version = versions.get(txn.appId) ?? -1n;
      if (version === txn.version) {
        this.ledger.recordCommit(partition, table, version, range.generation);
        if (table === 'logs') {
          // Written, but perhaps not with these rows: followers and search read it back.
          ranges.delete(partition);
          outcome.readBack.set(partition, range);
        }
      } else if (version !== txn.expectedVersion) {
        ranges.delete(partition);
        await this.drop(partition, range, outcome, `${table} txn moved to ${version} while the outcome was unknown`);
      }
    }
  }

  private async drop(partition: number, range: PartitionRange, outcome: BatchOutcome, reason: string): Promise<void> {
    outcome.dropped.set(partition, range);
    await this.options.resync(partition, reason);
  }

  /**
   * Commits a follower table's rows of one partition through `through`, continuing exactly from
   * the version the table holds. Rows come from memory when it covers what is missing, otherwise
   * from the logs table. Returns the rows written.
   */
  private async advanceFollower(
    table: FollowerTable,
    partition: number,
    through: bigint,
    memory?: { after: bigint; records: readonly ScoredRecord[] },
  ): Promise<number> {
    const failures = new FailureClock(this.retry, this.options.stopping);
    const generation = this.ledger.generation(partition);
    if (generation === undefined) return 0;
    for (;;) {
      const known = this.ledger.committed(partition, table);
      if (known === undefined || known >= through || this.ledger.generation(partition) !== generation) return 0;
      const records =
        memory && known >= memory.after
          ? memory.records.filter((record) => record.offset > known)
          : await this.withRetry(`read back ${table} rows from the logs table`, () => this.readLogs(partition, known, through));
      const append: TableAppend =
        table === 'anomalies'
          ? { table, rows: records.filter((record) => record.isAnomaly), txns: [this.txn(table, partition, through, known)] }
          : {
              table,
              rows: aggregateByPartition(this.options.topic, records, new Map([[partition, through]])),
              txns: [this.txn(table, partition, through, known)],
            };
      const [[result]] = (await this.options.lakehouse.commitSteps([[append]])) as [[AppendResult]];
      if (result.kind === 'committed') {
        this.ledger.recordCommit(partition, table, through, generation);
        observeDeltaCommit(table, result.durationMs);
        return append.rows.length;
      }
      if (result.kind === 'failed') await failures.failed(result.error, `commit to ${table}`);
      else observeDeltaConflict(table, 'refused');
      // Refused or unknown: another writer may have followed the logs table already. Ask the table.
      const versions = await this.withRetry(`read the ${table} table's txn version`, () =>
        this.options.lakehouse.txnVersions(table, [append.txns[0]!.appId]),
      );
      this.ledger.recordCommit(partition, table, versions.get(append.txns[0]!.appId) ?? -1n, generation);
    }
  }

  private async readLogs(partition: number, after: bigint, through: bigint): Promise<ScoredRecord[]> {
    const records: ScoredRecord[] = [];
    for await (const chunk of this.options.lakehouse.readRange('logs', this.options.topic, partition, after, through))
      records.push(...chunk);
    return records;
  }

  /** Runs an I/O step until it succeeds, backing off; gives up (CommitAbandonedError) past the retry budget. */
  private async withRetry<T>(what: string, task: () => Promise<T>): Promise<T> {
    const failures = new FailureClock(this.retry, this.options.stopping);
    for (;;) {
      try {
        return await task();
      } catch (error) {
        this.options.logger.warn({ error: (error as Error).message }, `could not ${what}; retrying`);
        await failures.failed(error as Error, what);
      }
    }
  }
}

/** Consecutive failures of one step: waits with back-off, throws once they outlast the budget. */
class FailureClock {
  private firstFailureMs: number | undefined;
  private attempts = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly stopping: () => boolean,
  ) {}

  async failed(error: Error, what: string): Promise<void> {
    const now = Date.now();
    this.firstFailureMs ??= now;
    this.attempts += 1;
    // A stopping streamer does not hold its consumer group for two minutes: it abandons the batch, which a restart redoes.
    const budgetMs = this.stopping() ? Math.min(this.policy.budgetMs, 10_000) : this.policy.budgetMs;
    if (now - this.firstFailureMs >= budgetMs) {
      throw new StreamerFailedError(
        `could not ${what} for ${Math.round((now - this.firstFailureMs) / 1000)} s (${this.attempts} attempts): ${error.message}`,
        error,
      );
    }
    const delayMs = Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** Math.min(this.attempts - 1, 10));
    await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random() / 2)));
  }
}

/** Records by partition, each partition's in the order given. */
function groupByPartition(records: readonly ScoredRecord[]): Map<number, ScoredRecord[]> {
  const groups = new Map<number, ScoredRecord[]>();
  let current: ScoredRecord[] | undefined;
  let currentPartition = -1;
  for (const record of records) {
    if (record.partition !== currentPartition) {
      currentPartition = record.partition;
      current = groups.get(currentPartition);
      if (!current) {
        current = [];
        groups.set(currentPartition, current);
      }
    }
    current!.push(record);
  }
  return groups;
}

/** The Kafka partition an appId of this streamer names ("…-<partition>"). */
function partitionOf(appId: string): number {
  return Number(appId.slice(appId.lastIndexOf('-') + 1));
}

/** Per-minute aggregates of each partition's records, each row carrying its partition's txn version. */
export function aggregateByPartition(
  topic: string,
  records: readonly ScoredRecord[],
  through: ReadonlyMap<number, bigint>,
): PartitionAggregate[] {
  const byPartition = new Map<number, ScoredRecord[]>();
  for (const record of records) {
    let rows = byPartition.get(record.partition);
    if (!rows) {
      rows = [];
      byPartition.set(record.partition, rows);
    }
    rows.push(record);
  }
  const aggregates: PartitionAggregate[] = [];
  for (const [partition, partitionRecords] of byPartition) {
    const batchLastOffset = through.get(partition)!;
    const modelVersion = partitionRecords[0]!.modelVersion;
    // The aggregates are new objects of one shape: completed in place (a spread copy of each was
    // most of this function's time).
    for (const aggregate of aggregatePerMinute(partitionRecords) as PartitionAggregate[]) {
      aggregate.topic = topic;
      aggregate.partition = partition;
      aggregate.batchLastOffset = batchLastOffset;
      aggregate.modelVersion = modelVersion;
      aggregates.push(aggregate);
    }
  }
  return aggregates;
}
