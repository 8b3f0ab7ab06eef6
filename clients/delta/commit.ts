// Atomic commits with optimistic concurrency: put-if-absent of the next version file, re-read winners, judge, retry.
import { randomUUID } from 'node:crypto';
import { serializeCommit, type Action, type CommitInfo, type TxnRequest } from './actions.js';
import { judgeWinningCommit, refusedTxns, type PendingCommit, type TxnRefusal } from './conflicts.js';
import { CommitConflictError, CommitRetriesExhaustedError, CorruptLogError } from './errors.js';
import { commitPath, readCommitFile } from './log.js';
import { applyActions, fileKey, type TableState } from './replay.js';
import type { Storage } from './storage.js';

export const ENGINE_INFO = 'logstream-delta/0.1';

export type CommitOutcome =
  | { status: 'committed'; version: number; attempts: number }
  /** Nothing was written: the table refuses these txns (see refusedTxns). */
  | { status: 'refused'; refused: TxnRefusal[] };

export interface CommitRequest {
  /** add / remove / metaData / protocol actions (txn actions are taken from `txns`). */
  actions: Action[];
  txns?: readonly TxnRequest[];
  operation: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, unknown>;
  isBlindAppend?: boolean;
}

export interface CommitOptions {
  maxAttempts?: number;
  /** Milliseconds; the nth retry waits up to base × 2^n (capped at 200 ms), randomised. */
  backoffBaseMs?: number;
  /** Epoch milliseconds for commitInfo.timestamp and txn.lastUpdated (default Date.now; a benchmark fast-forwards it). */
  clock?: () => number;
}

/** Told of every version a commit applies to the caller's state (its own and the winners it caught up with), with its JSON size. */
export type AppliedListener = (version: number, bytes: number) => void;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Commits on top of `state` (the caller's cached latest state, updated in place with every commit
 * read or written). Txn preconditions are checked against the state the commit lands on: before
 * the first attempt and again after catching up with every commit that won a race, so a refusal
 * (see refusedTxns) holds for the version the commit would have had.
 */
export async function commit(
  storage: Storage,
  tablePath: string,
  state: TableState,
  request: CommitRequest,
  options: CommitOptions = {},
  applied?: AppliedListener,
): Promise<CommitOutcome> {
  const txns = request.txns ?? [];
  const removedKeys = new Set<string>();
  for (const action of request.actions) if ('remove' in action) removedKeys.add(fileKey(action.remove.path));
  const pending: PendingCommit = {
    txns,
    removedKeys,
    changesMetadata: request.actions.some((action) => 'metaData' in action || 'protocol' in action),
  };
  const maxAttempts = options.maxAttempts ?? 1000;
  const base = options.backoffBaseMs ?? 2;
  const readVersion = state.version;
  // Makes every commit file unique, so an object store's "already exists" can be told from our own retried PUT.
  const txnId = randomUUID();
  for (const key of removedKeys)
    if (!state.files.has(key)) throw new CommitConflictError(tablePath, state.version, `file ${key} is not in the table`);
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const refused = refusedTxns(txns, state.txns);
    if (refused.length) return { status: 'refused', refused };
    const version = state.version + 1;
    const now = (options.clock ?? Date.now)();
    const commitInfo: CommitInfo = {
      timestamp: now,
      operation: request.operation,
      operationParameters: request.operationParameters ?? {},
      ...(request.operationMetrics ? { operationMetrics: request.operationMetrics } : {}),
      ...(readVersion >= 0 ? { readVersion } : {}),
      isBlindAppend: request.isBlindAppend ?? false,
      engineInfo: ENGINE_INFO,
      clientVersion: ENGINE_INFO,
      txnId,
    };
    const actions: Action[] = [
      { commitInfo },
      ...request.actions,
      ...txns.map((txn): Action => ({ txn: { appId: txn.appId, version: txn.version, lastUpdated: txn.lastUpdated ?? now } })),
    ];
    const text = serializeCommit(actions);
    if (await storage.putIfAbsent(commitPath(version), text)) {
      applyActions(state, version, actions);
      applied?.(version, Buffer.byteLength(text));
      return { status: 'committed', version, attempts: attempt };
    }
    // Lost the race: catch up with every winner, judging each against our commit.
    for (let winner = version; ; winner++) {
      const winning = await readCommitFile(storage, winner);
      if (!winning) {
        if (winner === version) throw new CorruptLogError(tablePath, `version ${version} exists but cannot be read`);
        break;
      }
      const verdict = judgeWinningCommit(pending, winning.actions);
      if (verdict.kind === 'conflict') throw new CommitConflictError(tablePath, winner, verdict.reason);
      applyActions(state, winner, winning.actions);
      applied?.(winner, winning.bytes);
    }
    const refusedAfterRace = refusedTxns(txns, state.txns);
    if (refusedAfterRace.length) return { status: 'refused', refused: refusedAfterRace };
    await sleep(Math.random() * Math.min(200, base * 2 ** Math.min(attempt, 7)));
  }
  throw new CommitRetriesExhaustedError(tablePath, maxAttempts);
}
