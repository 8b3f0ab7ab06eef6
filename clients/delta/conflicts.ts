// Optimistic-concurrency conflict rules (pure): what a commit that won the race means for ours, and
// which of our txn preconditions the table's current txns refuse.
import type { Action, Txn, TxnRequest } from './actions.js';
import { fileKey } from './replay.js';

export interface PendingCommit {
  /** txn actions we want to commit (one per Kafka partition for the streamer). */
  txns: readonly TxnRequest[];
  /** Files our commit removes (OPTIMIZE); a concurrent removal of any of them is a conflict. */
  removedKeys: ReadonlySet<string>;
  /** True when our commit changes metadata or protocol (table creation). */
  changesMetadata: boolean;
}

/** One of our txns the table refuses, with the version the table holds for its appId (-1 = none). */
export interface TxnRefusal {
  appId: string;
  committedVersion: number;
  /** `already-committed`: the table holds this version or a later one; `moved`: it is not at the expected version. */
  reason: 'already-committed' | 'moved';
}

export type ConflictVerdict = { kind: 'retry' } | { kind: 'conflict'; reason: string };

/**
 * Every txn of ours the committed txns refuse. A txn is refused when the table already holds its
 * version or a later one (a replayed batch), or, when it names an expectedVersion, whenever the
 * table's version for its appId is anything but exactly that (another writer moved the partition
 * on, or the batch would leave a gap behind it).
 */
export function refusedTxns(ours: readonly TxnRequest[], committed: ReadonlyMap<string, Txn> | readonly Txn[]): TxnRefusal[] {
  const lookup = (appId: string): Txn | undefined =>
    Array.isArray(committed)
      ? (committed as readonly Txn[]).findLast((txn) => txn.appId === appId)
      : (committed as ReadonlyMap<string, Txn>).get(appId);
  const refused: TxnRefusal[] = [];
  for (const txn of ours) {
    const committedVersion = lookup(txn.appId)?.version ?? -1;
    if (committedVersion >= txn.version) refused.push({ appId: txn.appId, committedVersion, reason: 'already-committed' });
    else if (txn.expectedVersion !== undefined && committedVersion !== txn.expectedVersion)
      refused.push({ appId: txn.appId, committedVersion, reason: 'moved' });
  }
  return refused;
}

/**
 * Judges one winning commit against ours. Blind appends never conflict with each other; txn
 * preconditions are checked again by the caller against the state that includes the winner.
 */
export function judgeWinningCommit(pending: PendingCommit, winning: readonly Action[]): ConflictVerdict {
  for (const action of winning) {
    if ('metaData' in action)
      return {
        kind: 'conflict',
        reason: pending.changesMetadata
          ? 'the table was created or altered concurrently'
          : 'the table schema or properties changed concurrently',
      };
    if ('protocol' in action) return { kind: 'conflict', reason: 'the table protocol changed concurrently' };
    if ('remove' in action && pending.removedKeys.has(fileKey(action.remove.path))) {
      return { kind: 'conflict', reason: `file ${action.remove.path} was removed concurrently` };
    }
  }
  return { kind: 'retry' };
}
