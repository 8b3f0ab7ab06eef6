// The _delta_log folder: file naming, listing commits and checkpoints, reading commits (I/O shell over Storage).
import { parseCommit, type Action } from './actions.js';
import { isNotFound, type Storage, type StoredFile } from './storage.js';

export const LOG_FOLDER = '_delta_log/';
export const LAST_CHECKPOINT_PATH = '_delta_log/_last_checkpoint';

export function versionName(version: number): string {
  return String(version).padStart(20, '0');
}

export function commitPath(version: number): string {
  return `${LOG_FOLDER}${versionName(version)}.json`;
}

export interface CommitFile {
  version: number;
  path: string;
  modifiedMs: number;
}

export interface CheckpointFiles {
  version: number;
  /** Parquet parts in part order (one for a single-part checkpoint). */
  paths: string[];
}

export interface LogListing {
  commits: CommitFile[];
  /** Complete checkpoints only (every part present), ascending by version. */
  checkpoints: CheckpointFiles[];
}

const commitPattern = /^(\d{20})\.json$/;
const singleCheckpointPattern = /^(\d{20})\.checkpoint\.parquet$/;
const multiCheckpointPattern = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

/** Sorts log file names into commits and complete checkpoints. Pure. */
export function classifyLogFiles(files: readonly StoredFile[]): LogListing {
  const commits: CommitFile[] = [];
  const single = new Map<number, string>();
  const multi = new Map<string, { version: number; total: number; parts: Map<number, string> }>();
  for (const file of files) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    let match = commitPattern.exec(name);
    if (match) {
      commits.push({ version: Number(match[1]), path: file.path, modifiedMs: file.modifiedMs });
      continue;
    }
    match = singleCheckpointPattern.exec(name);
    if (match) {
      single.set(Number(match[1]), file.path);
      continue;
    }
    match = multiCheckpointPattern.exec(name);
    if (match) {
      const version = Number(match[1]);
      const total = Number(match[3]);
      const key = `${version}/${total}`;
      const entry = multi.get(key) ?? { version, total, parts: new Map() };
      entry.parts.set(Number(match[2]), file.path);
      multi.set(key, entry);
    }
  }
  const checkpoints = new Map<number, CheckpointFiles>();
  for (const entry of multi.values()) {
    if (entry.parts.size !== entry.total) continue; // incomplete: a writer died mid-checkpoint
    const paths = [...entry.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, path]) => path);
    checkpoints.set(entry.version, { version: entry.version, paths });
  }
  for (const [version, path] of single) checkpoints.set(version, { version, paths: [path] });
  commits.sort((a, b) => a.version - b.version);
  return { commits, checkpoints: [...checkpoints.values()].sort((a, b) => a.version - b.version) };
}

/**
 * The log's commits and checkpoints, all of them or those of `fromVersion` on (listed from a start
 * key, as delta-kernel-rs lists the log from a checkpoint); file times only when asked (time travel,
 * cleanup), as they cost a stat each on a filesystem.
 */
export async function listLog(storage: Storage, options: { withTimes?: boolean; fromVersion?: number } = {}): Promise<LogListing> {
  return classifyLogFiles(
    await storage.list(LOG_FOLDER, {
      withMetadata: options.withTimes ?? true,
      // "_delta_log/<version>" sorts just before that version's files, so everything from it on follows.
      ...(options.fromVersion ? { startAfter: `${LOG_FOLDER}${versionName(options.fromVersion)}` } : {}),
    }),
  );
}

export interface LastCheckpoint {
  version: number;
  size?: number;
  parts?: number;
}

/** The files of the checkpoint a _last_checkpoint hint names: one classic file, or `parts` part files. */
export function checkpointFilesOf(hint: LastCheckpoint): CheckpointFiles {
  const base = `${LOG_FOLDER}${versionName(hint.version)}.checkpoint`;
  if (!hint.parts || hint.parts <= 1) return { version: hint.version, paths: [`${base}.parquet`] };
  const part = (index: number) => String(index).padStart(10, '0');
  return {
    version: hint.version,
    paths: Array.from({ length: hint.parts }, (_, index) => `${base}.${part(index + 1)}.${part(hint.parts!)}.parquet`),
  };
}

export async function readLastCheckpoint(storage: Storage): Promise<LastCheckpoint | undefined> {
  try {
    const text = new TextDecoder().decode(await storage.read(LAST_CHECKPOINT_PATH));
    const parsed = JSON.parse(text) as LastCheckpoint;
    return Number.isInteger(parsed.version) && parsed.version >= 0 ? parsed : undefined;
  } catch {
    return undefined; // absent or half-written hint: fall back to listing
  }
}

/** The actions of one commit, or undefined when that version does not exist (yet). */
export async function readCommit(storage: Storage, version: number): Promise<Action[] | undefined> {
  return (await readCommitFile(storage, version))?.actions;
}

/** One commit's actions and its size in bytes (the checkpoint policy weighs the JSON tail), or undefined when absent. */
export async function readCommitFile(storage: Storage, version: number): Promise<{ actions: Action[]; bytes: number } | undefined> {
  try {
    const bytes = await storage.read(commitPath(version));
    return { actions: parseCommit(new TextDecoder().decode(bytes)), bytes: bytes.byteLength };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Commits first, first+1, … up to `last` (or until one is missing), read `window` at a time: the
 * log's tail found without listing the folder. `limit` stops the probe (undefined is returned then),
 * so a stale hint far behind the log costs at most that many reads before the caller lists instead.
 */
export async function probeCommits(
  storage: Storage,
  first: number,
  options: { last?: number; limit: number; window?: number },
): Promise<{ version: number; actions: Action[]; bytes: number }[] | undefined> {
  const found: { version: number; actions: Action[]; bytes: number }[] = [];
  let window = Math.max(1, options.window ?? 8);
  for (let next = first; ; ) {
    const end = Math.min(next + window - 1, options.last ?? Number.POSITIVE_INFINITY);
    if (end < next) return found;
    if (found.length + (end - next + 1) > options.limit) return undefined;
    const versions = Array.from({ length: end - next + 1 }, (_, index) => next + index);
    const files = await Promise.all(versions.map((version) => readCommitFile(storage, version)));
    for (const [index, file] of files.entries()) {
      if (!file) return found; // versions are contiguous: the first gap is the end of the log
      found.push({ version: versions[index]!, ...file });
    }
    next = end + 1;
    window = Math.min(window * 2, 32); // short tails cost few wasted reads, long ones go 32 at a time
  }
}

/**
 * True when the folder holds a Delta log: commit 0, else the _last_checkpoint hint (log cleanup
 * deletes commit 0 of a long-lived table), and only then a listing.
 */
export async function logExists(storage: Storage): Promise<boolean> {
  if (await storage.stat(commitPath(0))) return true;
  if (await readLastCheckpoint(storage)) return true;
  const listing = await listLog(storage, { withTimes: false });
  return listing.commits.length > 0 || listing.checkpoints.length > 0;
}
