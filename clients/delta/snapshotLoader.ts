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
  let { listing } = await listForSelector(storage, selector);
  if (listing.commits.length === 0 && listing.checkpoints.length === 0) throw new TableNotFoundError(tablePath);
  const target = resolveVersion(tablePath, listing, selector);
  let restored = await restoreCheckpoint(storage, tablePath, listing, target);
  if (!restored) {
    // The newest checkpoint cannot be read and the listing started at it: the whole log may still replay.
    listing = await listLog(storage, { withTimes: false });
    restored = await restoreCheckpoint(storage, tablePath, listing, target);
    if (!restored) throw new CorruptLogError(tablePath, 'no readable checkpoint, and the commits before the newest one are gone');
  }
  const { state, checkpoint } = restored;
  const byVersion = new Map(listing.commits.map((commit) => [commit.version, commit]));
  const first = checkpoint ? checkpoint.version + 1 : 0;
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

/**
 * The state at the newest readable checkpoint at or before target (empty when none). A checkpoint
 * that cannot be read (truncated by a crash, corrupt) is passed over, with a warning, for an older
 * one or for the JSON log itself, as long as the listing holds the commits after it; undefined
 * when it does not.
 */
async function restoreCheckpoint(
  storage: Storage,
  tablePath: string,
  listing: LogListing,
  target: number,
): Promise<{ state: TableState; checkpoint?: LogListing['checkpoints'][number] } | undefined> {
  const byVersion = new Map(listing.commits.map((commit) => [commit.version, commit]));
  const candidates = [...listing.checkpoints].filter((candidate) => candidate.version <= target).reverse();
  for (const [index, candidate] of candidates.entries()) {
    const state = emptyState();
    try {
      applyActions(state, candidate.version, await readCheckpoint(storage, candidate));
      return { state, checkpoint: candidate };
    } catch (error) {
      const fallback = candidates[index + 1]?.version ?? -1;
      const replayable = [...Array(candidate.version - fallback).keys()].every((offset) => byVersion.has(fallback + 1 + offset));
      if (!replayable) return undefined;
      process.emitWarning(
        `${tablePath}: checkpoint ${candidate.version} cannot be read (${(error as Error).message}); using ${fallback >= 0 ? `checkpoint ${fallback}` : 'the JSON log'} instead`,
        { code: 'LOGSTREAM_DELTA_CHECKPOINT_UNREADABLE' },
      );
    }
  }
  return { state: emptyState() };
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
