// Pure log replay: actions in, table state out (PROTOCOL.md "Action Reconciliation"). No I/O here.
import type { Action, AddFile, Metadata, Protocol, RemoveFile, Txn } from './actions.js';
import type { CheckpointFiles } from './log.js';
import { uriToStoragePath } from './partitions.js';

export interface TableState {
  /** Version of the last commit applied; -1 before any. */
  version: number;
  protocol?: Protocol;
  metadata?: Metadata;
  /** Active files, keyed by their decoded path. */
  files: Map<string, AddFile>;
  /** Removed files (tombstones) still inside the deleted-file retention, keyed like files. */
  tombstones: Map<string, RemoveFile>;
  /** Latest txn per application id. */
  txns: Map<string, Txn>;
  /**
   * Set while the tombstones of this checkpoint are not read (snapshot loads leave them out; only
   * VACUUM and the next checkpoint need them): `tombstones` then holds only the later commits' removes,
   * and `count` is how many rows were left out. Cleared by mergeTombstones.
   */
  tombstoneSource?: CheckpointFiles & { count: number };
}

export function emptyState(): TableState {
  return { version: -1, files: new Map(), tombstones: new Map(), txns: new Map() };
}

export function cloneState(state: TableState): TableState {
  return { ...state, files: new Map(state.files), tombstones: new Map(state.tombstones), txns: new Map(state.txns) };
}

/** The key that identifies a logical file: its decoded path (deletion vectors are refused before replay). */
export function fileKey(path: string): string {
  try {
    return uriToStoragePath(path);
  } catch {
    return path;
  }
}

/**
 * Applies one version's actions to the state, in place. Within a commit an add and a remove of the same
 * path never both appear (protocol rule), so order inside a commit does not matter.
 */
export function applyActions(state: TableState, version: number, actions: readonly Action[]): TableState {
  for (const action of actions) {
    if ('add' in action) {
      const key = fileKey(action.add.path);
      state.files.set(key, action.add);
      state.tombstones.delete(key);
    } else if ('remove' in action) {
      const key = fileKey(action.remove.path);
      state.files.delete(key);
      state.tombstones.set(key, action.remove);
    } else if ('txn' in action) {
      state.txns.set(action.txn.appId, action.txn);
    } else if ('metaData' in action) {
      state.metadata = action.metaData;
    } else if ('protocol' in action) {
      state.protocol = action.protocol;
    }
  }
  state.version = version;
  return state;
}

/**
 * Adds the tombstones of the checkpoint the state was restored from (state.tombstoneSource), in
 * place: a path the later commits added again, or removed again, keeps what those commits say.
 */
export function mergeTombstones(state: TableState, checkpointTombstones: Iterable<RemoveFile>): void {
  for (const remove of checkpointTombstones) {
    const key = fileKey(remove.path);
    if (!state.files.has(key) && !state.tombstones.has(key)) state.tombstones.set(key, remove);
  }
  state.tombstoneSource = undefined;
}

/** Actions a checkpoint of the state holds (protocol, metadata, txns, files, tombstones), counting unread tombstones. */
export function liveActionCount(state: TableState): number {
  return 2 + state.txns.size + state.files.size + state.tombstones.size + (state.tombstoneSource?.count ?? 0);
}

/** Drops tombstones deleted before the cutoff; they are no longer needed by checkpoints or VACUUM. */
export function expireTombstones(state: TableState, cutoffMs: number): void {
  for (const [key, remove] of state.tombstones) {
    if ((remove.deletionTimestamp ?? 0) < cutoffMs) state.tombstones.delete(key);
  }
}

export function replay(commits: Iterable<{ version: number; actions: readonly Action[] }>, start: TableState = emptyState()): TableState {
  for (const commit of commits) applyActions(start, commit.version, commit.actions);
  return start;
}

/** Table properties with Delta's defaults applied. */
export function tableProperty(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.configuration?.[key];
  return value == null ? undefined : value;
}

/** Parses "interval 7 days" style durations used by delta.* retention properties, in milliseconds. */
export function parseIntervalMs(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs;
  const match = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!match) return fallbackMs;
  const unitMs = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 }[match[2]!.toLowerCase() as 'day'];
  return Number(match[1]) * unitMs;
}

export const defaultDeletedFileRetentionMs = 7 * 86_400_000;
