// VACUUM (data files no version inside the retention window references) and expired-log cleanup.
import { fileKey, type TableState } from './replay.js';
import { LOG_FOLDER, type CheckpointFiles, type LogListing } from './log.js';
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
 * The newest checkpoint whose version is past the log retention: its commit's time is before the
 * cutoff. Commit times grow with versions (as Delta Spark's log cleanup assumes), so a binary search
 * reads the times of about log2(checkpoints) of them; undefined when none is past the retention.
 */
export async function expiredCheckpointFloor(
  checkpoints: readonly CheckpointFiles[],
  cutoffMs: number,
  timeOf: (checkpoint: CheckpointFiles) => Promise<number | undefined>,
): Promise<number | undefined> {
  let low = 0;
  let high = checkpoints.length - 1;
  let floor: number | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const time = await timeOf(checkpoints[middle]!);
    if (time !== undefined && time < cutoffMs) {
      floor = checkpoints[middle]!.version;
      low = middle + 1;
    } else high = middle - 1;
  }
  return floor;
}

/**
 * Log files to delete: the commits and checkpoints below `floor` (the newest expired checkpoint),
 * which stays with its commit and everything after it, so every version inside the retention
 * window stays reconstructible (PROTOCOL.md "Metadata Cleanup"). Nothing without a floor. Pure.
 */
export function planLogCleanup(listing: LogListing, floor: number | undefined): string[] {
  if (floor === undefined) return [];
  const paths = listing.commits.filter((commit) => commit.version < floor).map((commit) => commit.path);
  for (const checkpoint of listing.checkpoints) if (checkpoint.version < floor) paths.push(...checkpoint.paths);
  return paths;
}
