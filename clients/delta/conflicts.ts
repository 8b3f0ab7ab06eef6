// Optimistic-concurrency conflict rules (pure): what a commit that won the race means for ours.
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

export type ConflictVerdict =
  | { kind: 'retry' }
  | { kind: 'duplicate'; appId: string; committedVersion: number }
  | { kind: 'conflict'; reason: string };

/**
 * A txn for the same appId at the same or higher version: this batch is already in the table. With
 * previousVersion, also any version above it: another writer committed part of this batch's range.
 */
export function findDuplicateTxn(
  ours: readonly TxnRequest[],
  committed: ReadonlyMap<string, Txn> | readonly Txn[],
): { appId: string; committedVersion: number } | undefined {
  const lookup = (appId: string): Txn | undefined =>
    Array.isArray(committed)
      ? (committed as readonly Txn[]).find((txn) => txn.appId === appId)
      : (committed as ReadonlyMap<string, Txn>).get(appId);
  for (const txn of ours) {
    const existing = lookup(txn.appId);
    if (!existing) continue;
    if (existing.version >= txn.version || (txn.previousVersion !== undefined && existing.version > txn.previousVersion)) {
      return { appId: txn.appId, committedVersion: existing.version };
    }
  }
  return undefined;
}

/** Judges one winning commit against ours. Blind appends never conflict with each other. */
export function judgeWinningCommit(pending: PendingCommit, winning: readonly Action[]): ConflictVerdict {
  const winningTxns: Txn[] = [];
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
    if ('txn' in action) winningTxns.push(action.txn);
  }
  const duplicate = findDuplicateTxn(pending.txns, winningTxns);
  if (duplicate) return { kind: 'duplicate', ...duplicate };
  return { kind: 'retry' };
}
