// An in-memory Lakehouse for unit tests of the streamer's commit protocol: four tables of rows with
// per-appId txn versions, refusing txns by the Delta engine's own rule (clients/delta/conflicts.ts),
// with hooks to fail a commit, lose its reply, or hold it (a frozen streamer) at chosen moments.
import { refusedTxns } from '../../clients/delta/conflicts.js';
import type { AppendResult, Lakehouse, ScoredRecord, TableAppend, TableName } from '../../streamers/sinks.js';

export interface StoredTable {
  rows: unknown[];
  txns: Map<string, bigint>;
  commits: number;
}

/** What a hook decides for one append: commit it, fail before writing, or write it and lose the reply. */
export type Fault = 'commit' | 'fail' | 'lose-reply';

export class MemoryLakehouse implements Lakehouse {
  readonly tables: Record<TableName, StoredTable> = {
    logs: { rows: [], txns: new Map(), commits: 0 },
    anomalies: { rows: [], txns: new Map(), commits: 0 },
    metrics: { rows: [], txns: new Map(), commits: 0 },
    quarantine: { rows: [], txns: new Map(), commits: 0 },
  };
  /** Decides the fate of each append (default: commit). May wait, to hold a commit. */
  fault: (append: TableAppend) => Fault | Promise<Fault> = () => 'commit';

  async txnVersions(table: TableName, appIds: readonly string[]): Promise<Map<string, bigint>> {
    return new Map(appIds.map((appId) => [appId, this.tables[table].txns.get(appId) ?? -1n]));
  }

  async txnUpdatedAt(): Promise<number | undefined> {
    return undefined;
  }

  async commitSteps(steps: readonly (readonly TableAppend[])[]): Promise<AppendResult[][]> {
    const results: AppendResult[][] = [];
    let proceed = true;
    for (const step of steps) {
      if (!proceed) {
        results.push(step.map((): AppendResult => ({ kind: 'skipped' })));
        continue;
      }
      const stepResults = await Promise.all(step.map((append) => this.commitOne(append)));
      results.push(stepResults);
      proceed = stepResults.every((result) => result.kind === 'committed');
    }
    return results;
  }

  private async commitOne(append: TableAppend): Promise<AppendResult> {
    const fault = await this.fault(append);
    if (fault === 'fail') return { kind: 'failed', error: new Error('injected failure before the commit') };
    const table = this.tables[append.table];
    const committed = [...table.txns].map(([appId, version]) => ({ appId, version: Number(version) }));
    const refused = refusedTxns(
      append.txns.map((txn) => ({
        appId: txn.appId,
        version: Number(txn.version),
        ...(txn.expectedVersion === undefined ? {} : { expectedVersion: Number(txn.expectedVersion) }),
      })),
      committed,
    );
    if (refused.length)
      return { kind: 'refused', refused: refused.map((refusal) => ({ ...refusal, committedVersion: BigInt(refusal.committedVersion) })) };
    table.rows.push(...append.rows);
    for (const txn of append.txns) table.txns.set(txn.appId, txn.version);
    table.commits += 1;
    if (fault === 'lose-reply') return { kind: 'failed', error: new Error('injected: the reply was lost') };
    return { kind: 'committed', tableVersion: table.commits, durationMs: 1 };
  }

  async *readRange(
    table: 'logs' | 'anomalies',
    _topic: string,
    partition: number,
    after: bigint,
    through: bigint,
  ): AsyncIterable<ScoredRecord[]> {
    yield (this.tables[table].rows as ScoredRecord[])
      .filter((row) => row.partition === partition && row.offset > after && row.offset <= through)
      .sort((left, right) => (left.offset < right.offset ? -1 : 1));
  }

  /** "partition:offset" of every row of a table (metrics rows count as their request counts). */
  keys(table: 'logs' | 'anomalies' | 'quarantine'): string[] {
    return (this.tables[table].rows as Array<{ partition: number; offset: bigint }>).map((row) => `${row.partition}:${row.offset}`);
  }

  /** Requests counted in metrics_1m per partition. */
  metricsRequests(partition: number): number {
    return (this.tables.metrics.rows as Array<{ partition: number; requestCount: number }>)
      .filter((row) => row.partition === partition)
      .reduce((sum, row) => sum + row.requestCount, 0);
  }
}
