// Builds table state from storage: newest checkpoint at or before the wanted version, then the JSON commits after it.
import type { Action } from './actions.js';
import { readCheckpoint } from './checkpoint.js';
import { CorruptLogError, TableNotFoundError, UnsupportedFeatureError, VersionNotFoundError } from './errors.js';
import { unsupportedReaderFeature } from './features.js';
import { listLog, readCommit, readLastCheckpoint, type LogListing } from './log.js';
import { applyActions, emptyState, type TableState } from './replay.js';
import type { Storage } from './storage.js';

export interface SnapshotSelector {
  version?: number;
  /** Epoch ms: the newest version committed at or before this time (commit file modification time). */
  timestampMs?: number;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Which version a selector names, given the listing. Pure. */
export function resolveVersion(tablePath: string, listing: LogListing, selector: SnapshotSelector): number {
  const latest = Math.max(listing.commits.at(-1)?.version ?? -1, listing.checkpoints.at(-1)?.version ?? -1);
  if (selector.version !== undefined) {
    if (selector.version > latest || selector.version < 0)
      throw new VersionNotFoundError(tablePath, `version ${selector.version}`, `the latest version is ${latest}`);
    return selector.version;
  }
  if (selector.timestampMs !== undefined) {
    let found: number | undefined;
    for (const commit of listing.commits) if (commit.modifiedMs <= selector.timestampMs) found = commit.version;
    if (found === undefined)
      throw new VersionNotFoundError(
        tablePath,
        `a version at or before ${new Date(selector.timestampMs).toISOString()}`,
        'the table was created later, or its early log was cleaned up',
      );
    return found;
  }
  return latest;
}

/**
 * The log files a selector needs. The latest version, or one at or after the _last_checkpoint hint,
 * is listed from the hinted checkpoint on (a log of millions of commits is not listed whole); a
 * stale or broken hint, an older version and time travel by timestamp list the whole log.
 */
async function listForSelector(
  storage: Storage,
  selector: SnapshotSelector,
): Promise<{ listing: LogListing; lastCheckpoint: Awaited<ReturnType<typeof readLastCheckpoint>> }> {
  if (selector.timestampMs !== undefined) return { listing: await listLog(storage, { withTimes: true }), lastCheckpoint: undefined };
  const lastCheckpoint = await readLastCheckpoint(storage);
  const from = lastCheckpoint?.version;
  if (from !== undefined && from > 0 && (selector.version === undefined || selector.version >= from)) {
    const tail = await listLog(storage, { withTimes: false, fromVersion: from });
    const usable = tail.checkpoints.some(
      (checkpoint) => checkpoint.version >= from && (selector.version === undefined || checkpoint.version <= selector.version),
    );
    if (usable) return { listing: tail, lastCheckpoint };
  }
  return { listing: await listLog(storage, { withTimes: false }), lastCheckpoint };
}

export async function loadState(
  storage: Storage,
  tablePath: string,
  selector: SnapshotSelector = {},
): Promise<{ state: TableState; listing: LogListing }> {
  const { listing, lastCheckpoint } = await listForSelector(storage, selector);
  if (listing.commits.length === 0 && listing.checkpoints.length === 0) throw new TableNotFoundError(tablePath);
  const target = resolveVersion(tablePath, listing, selector);
  // _last_checkpoint is only a hint; a complete checkpoint found by listing wins (it may be newer).
  const checkpoint =
    [...listing.checkpoints].reverse().find((candidate) => candidate.version <= target) ??
    listing.checkpoints.find((candidate) => candidate.version === lastCheckpoint?.version && candidate.version <= target);
  const state = emptyState();
  if (checkpoint) applyActions(state, checkpoint.version, await readCheckpoint(storage, checkpoint));
  const first = checkpoint ? checkpoint.version + 1 : 0;
  const byVersion = new Map(listing.commits.map((commit) => [commit.version, commit]));
  const needed: number[] = [];
  for (let version = first; version <= target; version++) {
    if (!byVersion.has(version)) {
      if (!checkpoint && version === 0)
        throw new VersionNotFoundError(tablePath, `version ${target}`, 'its commits were cleaned up and no checkpoint covers it');
      throw new CorruptLogError(tablePath, `commit ${version} is missing`);
    }
    needed.push(version);
  }
  const commits = await mapLimited(needed, 32, async (version) => {
    const actions = await readCommit(storage, version);
    if (!actions) throw new CorruptLogError(tablePath, `commit ${version} disappeared while reading`);
    return actions;
  });
  for (const [index, actions] of commits.entries()) applyActions(state, needed[index]!, actions);
  assertReadable(tablePath, state);
  return { state, listing };
}

export function assertReadable(tablePath: string, state: TableState): void {
  if (!state.protocol || !state.metadata)
    throw new CorruptLogError(tablePath, `no ${state.protocol ? 'metaData' : 'protocol'} action up to version ${state.version}`);
  const feature = unsupportedReaderFeature(state.protocol, state.metadata);
  if (feature) throw new UnsupportedFeatureError(tablePath, feature, 'read');
  for (const add of state.files.values()) {
    if (add.deletionVector) throw new UnsupportedFeatureError(tablePath, 'deletionVectors', 'read');
  }
}

/** Applies commits newer than the state's version, in place; returns them. Cheap when nothing changed: one failed read. */
export async function advanceState(
  storage: Storage,
  tablePath: string,
  state: TableState,
): Promise<{ version: number; actions: Action[] }[]> {
  const applied: { version: number; actions: Action[] }[] = [];
  for (;;) {
    const version = state.version + 1;
    const actions = await readCommit(storage, version);
    if (!actions) break;
    applyActions(state, version, actions);
    applied.push({ version, actions });
  }
  if (applied.length) assertReadable(tablePath, state);
  return applied;
}
