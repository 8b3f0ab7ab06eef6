// Builds table state from storage: newest checkpoint at or before the wanted version, then the JSON commits after it.
import type { Action } from './actions.js';
import { readCheckpoint } from './checkpoint.js';
import { CorruptLogError, TableNotFoundError, UnsupportedFeatureError, VersionNotFoundError } from './errors.js';
import { unsupportedReaderFeature } from './features.js';
import { listLog, readCommit, type LogListing } from './log.js';
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

export async function loadState(
  storage: Storage,
  tablePath: string,
  selector: SnapshotSelector = {},
): Promise<{ state: TableState; listing: LogListing }> {
  const listing = await listLog(storage, { withTimes: selector.timestampMs !== undefined });
  if (listing.commits.length === 0 && listing.checkpoints.length === 0) throw new TableNotFoundError(tablePath);
  const target = resolveVersion(tablePath, listing, selector);
  const byVersion = new Map(listing.commits.map((commit) => [commit.version, commit]));
  // The listing finds every complete checkpoint (_last_checkpoint is only a hint for stores that cannot list).
  // A checkpoint that cannot be read (truncated by a crash, corrupt) is passed over for an older one,
  // or for the JSON log itself, as long as the commits after it are still there.
  const candidates = [...listing.checkpoints].filter((candidate) => candidate.version <= target).reverse();
  let checkpoint: (typeof candidates)[number] | undefined;
  const state = emptyState();
  for (const [index, candidate] of candidates.entries()) {
    try {
      applyActions(state, candidate.version, await readCheckpoint(storage, candidate));
      checkpoint = candidate;
      break;
    } catch (error) {
      const fallback = candidates[index + 1]?.version ?? -1;
      const replayable = [...Array(candidate.version - fallback).keys()].every((offset) => byVersion.has(fallback + 1 + offset));
      if (!replayable)
        throw new CorruptLogError(
          tablePath,
          `checkpoint ${candidate.version} cannot be read (${(error as Error).message}) and the commits before it are gone`,
        );
      process.emitWarning(
        `${tablePath}: checkpoint ${candidate.version} cannot be read (${(error as Error).message}); using ${fallback >= 0 ? `checkpoint ${fallback}` : 'the JSON log'} instead`,
        { code: 'LOGSTREAM_DELTA_CHECKPOINT_UNREADABLE' },
      );
      Object.assign(state, emptyState());
    }
  }
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
