// Builds table state from storage: newest checkpoint at or before the wanted version, then the JSON commits after it.
import type { Action } from './actions.js';
import { readCheckpointTombstones, readCheckpointWithoutTombstones } from './checkpoint.js';
import { CorruptLogError, TableNotFoundError, UnsupportedFeatureError, VersionNotFoundError } from './errors.js';
import { unsupportedReaderFeature } from './features.js';
import {
  checkpointFilesOf,
  listLog,
  probeCommits,
  readCommitFile,
  readLastCheckpoint,
  type LastCheckpoint,
  type LogListing,
} from './log.js';
import { applyActions, emptyState, mergeTombstones, type TableState } from './replay.js';
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

/** A table state as loaded, with what the checkpoint policy needs to know about the log behind it. */
export interface LoadedState {
  state: TableState;
  /** Version of the checkpoint the state was restored from; undefined when replayed from version 0. */
  checkpointVersion?: number;
  /** JSON bytes of the commits replayed after the checkpoint. */
  tailBytes: number;
}

export interface LoadOptions {
  /**
   * Commits read forward from the _last_checkpoint hint before giving up on it and listing the log
   * (a stale hint far behind the log, or a table whose writers never checkpoint). Default 2,000.
   */
  probeLimit?: number;
  /** Also read the checkpoint's tombstones (VACUUM and checkpoints need them; reads do not). */
  tombstones?: boolean;
}

export const DEFAULT_PROBE_LIMIT = 2_000;

/**
 * The latest version, or one at or after the _last_checkpoint hint, without listing the log: the
 * hinted checkpoint, then the commits after it read forward until the first missing version
 * (delta-kernel-rs style; a local _delta_log of hundreds of thousands of files takes seconds to
 * readdir). Undefined when the hint is missing or unusable, or the tail is longer than the limit:
 * the caller lists the log then.
 */
async function loadFromHint(storage: Storage, selector: SnapshotSelector, probeLimit: number): Promise<LoadedState | undefined> {
  const hint = await readLastCheckpoint(storage);
  if (hint && selector.version !== undefined && selector.version < hint.version) return undefined;
  const state = emptyState();
  const first = hint ? hint.version + 1 : 0;
  // The checkpoint and the tail after it are read at once: a round trip less on an object store.
  const files = hint && checkpointFilesOf(hint);
  const [restored, tail] = await Promise.all([
    files &&
      readCheckpointWithoutTombstones(storage, files).catch(
        () => undefined, // deleted, torn or unreadable: the listing path finds another one, with a warning
      ),
    probeCommits(storage, first, { last: selector.version, limit: probeLimit }),
  ]);
  if (files) {
    if (!restored) return undefined;
    applyActions(state, hint!.version, restored.actions);
    state.tombstoneSource = { ...files, count: restored.tombstones };
  }
  if (!tail) return undefined;
  if (!hint && tail.length === 0) return undefined; // no commit 0 and no hint: a cleaned-up log, or no table
  const reached = tail.at(-1)?.version ?? hint!.version;
  if (selector.version !== undefined && reached < selector.version) return undefined; // the listing names what is missing
  let tailBytes = 0;
  for (const commit of tail) {
    applyActions(state, commit.version, commit.actions);
    tailBytes += commit.bytes;
  }
  return { state, checkpointVersion: hint?.version, tailBytes };
}

/**
 * The log files a selector needs, when the hint alone does not do: the latest version, or one at
 * or after the hint, is listed from the hinted checkpoint on (cheap on an object store); a stale or
 * broken hint, an older version and time travel by timestamp list the whole log.
 */
async function listForSelector(storage: Storage, selector: SnapshotSelector): Promise<LogListing> {
  if (selector.timestampMs !== undefined) return listLog(storage, { withTimes: true });
  const lastCheckpoint: LastCheckpoint | undefined = await readLastCheckpoint(storage);
  const from = lastCheckpoint?.version;
  if (from !== undefined && from > 0 && (selector.version === undefined || selector.version >= from)) {
    const tail = await listLog(storage, { withTimes: false, fromVersion: from });
    const usable = tail.checkpoints.some(
      (checkpoint) => checkpoint.version >= from && (selector.version === undefined || checkpoint.version <= selector.version),
    );
    if (usable) return tail;
  }
  return listLog(storage, { withTimes: false });
}

export async function loadState(
  storage: Storage,
  tablePath: string,
  selector: SnapshotSelector = {},
  options: LoadOptions = {},
): Promise<LoadedState> {
  // An object store lists the tail from the hint in one request; a local folder is read forward by name instead.
  const probe = selector.timestampMs === undefined && !storage.listsFromStartKey;
  const loaded =
    (probe ? await loadFromHint(storage, selector, options.probeLimit ?? DEFAULT_PROBE_LIMIT) : undefined) ??
    (await loadFromListing(storage, tablePath, selector));
  assertReadable(tablePath, loaded.state);
  if (options.tombstones) await loadTombstones(storage, loaded.state);
  return loaded;
}

/** Reads the tombstones a snapshot load left out (state.tombstoneSource), in place; nothing when there are none. */
export async function loadTombstones(storage: Storage, state: TableState): Promise<void> {
  if (state.tombstoneSource) mergeTombstones(state, await readCheckpointTombstones(storage, state.tombstoneSource));
}

async function loadFromListing(storage: Storage, tablePath: string, selector: SnapshotSelector): Promise<LoadedState> {
  let listing = await listForSelector(storage, selector);
  if (listing.commits.length === 0 && listing.checkpoints.length === 0) throw new TableNotFoundError(tablePath);
  const target = resolveVersion(tablePath, listing, selector);
  const readCommits = async (checkpoint: LogListing['checkpoints'][number] | undefined, last: number) => {
    const byVersion = new Map(listing.commits.map((commit) => [commit.version, commit]));
    const needed: number[] = [];
    for (let version = checkpoint ? checkpoint.version + 1 : 0; version <= last; version++) {
      if (!byVersion.has(version)) {
        if (!checkpoint && version === 0)
          throw new VersionNotFoundError(tablePath, `version ${target}`, 'its commits were cleaned up and no checkpoint covers it');
        throw new CorruptLogError(tablePath, `commit ${version} is missing`);
      }
      needed.push(version);
    }
    return mapLimited(needed, 32, async (version) => {
      const file = await readCommitFile(storage, version);
      if (!file) throw new CorruptLogError(tablePath, `commit ${version} disappeared while reading`);
      return { version, ...file };
    });
  };
  // The commits after the newest checkpoint are read while it is: a round trip less on an object store.
  const newest = listing.checkpoints.filter((checkpoint) => checkpoint.version <= target).at(-1);
  const newestTail = readCommits(newest, target);
  newestTail.catch(() => undefined); // awaited below; only an unused one must not surface as unhandled
  let restored = await restoreCheckpoint(storage, tablePath, listing, target);
  if (!restored) {
    // The newest checkpoint cannot be read and the listing started at it: the whole log may still replay.
    listing = await listLog(storage, { withTimes: false });
    restored = await restoreCheckpoint(storage, tablePath, listing, target);
    if (!restored) throw new CorruptLogError(tablePath, 'no readable checkpoint, and the commits before the newest one are gone');
  }
  const { state, checkpoint } = restored;
  // An older checkpoint than the newest (that one was unreadable): the commits between them too.
  const commits =
    checkpoint?.version === newest?.version
      ? await newestTail
      : [...(await readCommits(checkpoint, newest ? newest.version : -1)), ...(newest ? await newestTail : [])];
  let tailBytes = 0;
  for (const file of commits) {
    applyActions(state, file.version, file.actions);
    tailBytes += file.bytes;
  }
  return { state, checkpointVersion: checkpoint?.version, tailBytes };
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
      const { actions, tombstones } = await readCheckpointWithoutTombstones(storage, candidate);
      applyActions(state, candidate.version, actions);
      state.tombstoneSource = { ...candidate, count: tombstones };
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
): Promise<{ version: number; actions: Action[]; bytes: number }[]> {
  const applied: { version: number; actions: Action[]; bytes: number }[] = [];
  for (;;) {
    const version = state.version + 1;
    const file = await readCommitFile(storage, version);
    if (!file) break;
    applyActions(state, version, file.actions);
    applied.push({ version, ...file });
  }
  if (applied.length) assertReadable(tablePath, state);
  return applied;
}
