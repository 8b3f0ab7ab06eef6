// VACUUM (data files no version inside the retention window references) and expired-log cleanup.
import { fileKey, type TableState } from './replay.js';
import { LOG_FOLDER, type LogListing } from './log.js';
import type { StoredFile } from './storage.js';

/** Data files to delete: not active, not removed inside the window, and older than the window themselves. Pure. */
export function planVacuum(files: readonly StoredFile[], state: TableState, nowMs: number, retentionMs: number): StoredFile[] {
  const cutoff = nowMs - retentionMs;
  const keep = new Set<string>(state.files.keys());
  for (const [key, remove] of state.tombstones) if ((remove.deletionTimestamp ?? nowMs) >= cutoff) keep.add(key);
  return files.filter((file) => {
    if (isHidden(file.path)) return false;
    if (keep.has(fileKey(file.path)) || keep.has(file.path)) return false;
    return file.modifiedMs < cutoff; // a file younger than the window may belong to a commit in flight
  });
}

/**
 * _delta_log and folders or files starting with "_" or "." are not data (Spark's rule), except partition
 * folders (name=value) and our own ".tmp-" files, which a killed writer can leave behind.
 */
export function isHidden(path: string): boolean {
  if (path.startsWith(LOG_FOLDER)) return true;
  return path
    .split('/')
    .some((segment) => (segment.startsWith('_') || segment.startsWith('.')) && !segment.includes('=') && !segment.startsWith(TEMP_PREFIX));
}

/** Prefix of the temp files LocalStorage writes before link()/rename(). */
export const TEMP_PREFIX = '.tmp-';

/** Temp files in the log older than the cutoff: left by writers killed between write and link. Pure. */
export function staleLogTempFiles(files: readonly StoredFile[], cutoffMs: number): string[] {
  return files
    .filter((file) => file.path.slice(file.path.lastIndexOf('/') + 1).startsWith(TEMP_PREFIX) && file.modifiedMs < cutoffMs)
    .map((file) => file.path);
}

/**
 * Log files to delete: everything older than the newest checkpoint that is itself past the retention,
 * so every version inside the window stays reconstructible. Pure.
 */
export function planLogCleanup(listing: LogListing, nowMs: number, retentionMs: number): string[] {
  const cutoff = nowMs - retentionMs;
  const commitTime = new Map(listing.commits.map((commit) => [commit.version, commit.modifiedMs]));
  let floor: number | undefined;
  for (const checkpoint of listing.checkpoints) {
    const time = commitTime.get(checkpoint.version);
    if (time !== undefined && time < cutoff) floor = checkpoint.version;
  }
  if (floor === undefined) return [];
  const paths = listing.commits.filter((commit) => commit.version < floor! && commit.modifiedMs < cutoff).map((commit) => commit.path);
  for (const checkpoint of listing.checkpoints) if (checkpoint.version < floor) paths.push(...checkpoint.paths);
  return paths;
}
