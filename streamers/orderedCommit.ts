// A batch's Delta commits in the order exactly-once needs, on whichever thread holds the tables
// (the writer thread, or the caller's): every table's files are written at once, the `first`
// appends (the side tables) commit together, and `last` (the logs table, the checkpoint) commits
// only if all of them did. Failures come back per append, not as a rejection.
import type { Table } from 'apache-arrow';
import type { DeltaTable, StagedAppend } from '../clients/delta/index.js';
import type { AppendOutcome } from './sinks.js';

/** A txn as the Delta engine takes it (Kafka offsets fit a double exactly up to 2^53). */
export type DeltaTxn = { appId: string; version: number; previousVersion?: number };

export interface OrderedAppend {
  table: DeltaTable;
  rows: Table;
  txns: DeltaTxn[];
  operation: string;
}

export type OrderedResult = { outcome: AppendOutcome; durationMs: number } | { error: { name: string; message: string } };

interface Staged {
  append: OrderedAppend;
  staged: StagedAppend;
  startedMs: number;
}

const failure = (error: Error): OrderedResult => ({ error: { name: error.name, message: error.message } });

/** The appends may still be arriving (the writer thread opens tables first): a rejected one is a failed result. */
export async function commitInOrder(
  first: Promise<OrderedAppend>[],
  last?: Promise<OrderedAppend>,
): Promise<{ first: OrderedResult[]; last?: OrderedResult }> {
  const stage = async (pending: Promise<OrderedAppend>): Promise<Staged> => {
    const startedMs = performance.now();
    const append = await pending;
    return { append, staged: await append.table.stageAppend(append.rows), startedMs };
  };
  const staging = [...first, ...(last ? [last] : [])].map((pending) =>
    stage(pending).then((staged): Staged | OrderedResult => staged, failure),
  );
  const firstResults = await Promise.all(
    staging.slice(0, first.length).map(async (staging) => {
      const staged = await staging;
      return 'staged' in staged ? commitStaged(staged) : staged;
    }),
  );
  if (!last) return { first: firstResults };
  const stagedLast = await staging[first.length]!;
  if (!('staged' in stagedLast)) return { first: firstResults, last: stagedLast };
  if (!firstResults.every((result) => 'outcome' in result && result.outcome.kind === 'committed')) {
    // The later commit must not land before the earlier ones: leave it to the caller's retry.
    await stagedLast.append.table.discardStaged(stagedLast.staged);
    return { first: firstResults };
  }
  return { first: firstResults, last: await commitStaged(stagedLast) };
}

async function commitStaged({ append, staged, startedMs }: Staged): Promise<OrderedResult> {
  try {
    const outcome = await append.table.commitStaged(staged, { txns: append.txns, operation: append.operation });
    const durationMs = performance.now() - startedMs;
    return outcome.status === 'committed'
      ? { outcome: { kind: 'committed', tableVersion: outcome.version }, durationMs }
      : { outcome: { kind: 'duplicate' }, durationMs };
  } catch (error) {
    await append.table.discardStaged(staged);
    return failure(error as Error);
  }
}
