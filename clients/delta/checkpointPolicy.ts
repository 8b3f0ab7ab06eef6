// When to write a checkpoint. Pure: the table passes what it knows about the log's tail.
//
// A snapshot load reads the newest checkpoint (cost ∝ the live actions in it) and then every commit
// after it (the tail: one read and one parse each). A checkpoint rewrites every live action. So a
// checkpoint is due once the tail is long enough to be worth replacing, and how long that is grows
// with the table: at least `interval` commits, and at least one commit per `actionsPerTailCommit`
// live actions, so the actions a checkpoint writes stay under that many per commit on average. The
// tail is bounded whatever the table's size (`maxTailCommits`, `maxTailBytes`), which bounds what a
// snapshot load reads; and a due checkpoint waits `minIntervalMs` after the previous one unless the
// tail reached those bounds (a writer catching up commits many times a second).

export interface CheckpointPolicy {
  /** Commits after the last checkpoint that make the next one due (config delta.checkpoint_interval). */
  interval: number;
  /** A table with more live actions (files, tombstones, txns) than this many per tail commit waits for a longer tail. */
  actionsPerTailCommit: number;
  /** A checkpoint is due at this many tail commits whatever else holds (config delta.checkpoint_max_tail_commits). */
  maxTailCommits: number;
  /** …or at this many bytes of JSON in the tail (config delta.checkpoint_max_tail_mb). */
  maxTailBytes: number;
  /** Below those bounds, at most one checkpoint per this long (config delta.checkpoint_min_interval_seconds). */
  minIntervalMs: number;
}

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = {
  interval: 100,
  actionsPerTailCommit: 100,
  maxTailCommits: 500,
  maxTailBytes: 8 * 1024 * 1024,
  minIntervalMs: 30_000,
};

export interface LogTail {
  /** Commits after the last checkpoint (after version 0 when there is none). */
  commits: number;
  /** Their JSON bytes. */
  bytes: number;
  /** Live actions a checkpoint of the latest version would hold. */
  liveActions: number;
  /** Time since this writer last saw a checkpoint written (Infinity when it has seen none). */
  sinceCheckpointMs: number;
}

export type CheckpointReason = 'interval' | 'max-tail-commits' | 'max-tail-bytes' | 'table-property';

/**
 * Why a checkpoint is due now, or undefined when it is not. `fixedInterval` is the table property
 * delta.checkpointInterval: when set, a checkpoint is due every that many commits as in Delta Spark
 * (the byte bound still applies), without the size and time rules.
 */
export function checkpointDue(tail: LogTail, policy: CheckpointPolicy, fixedInterval?: number): CheckpointReason | undefined {
  if (tail.commits <= 0) return undefined;
  if (tail.bytes >= policy.maxTailBytes) return 'max-tail-bytes';
  if (fixedInterval !== undefined) return tail.commits >= fixedInterval ? 'table-property' : undefined;
  if (tail.commits >= policy.maxTailCommits) return 'max-tail-commits';
  if (tail.sinceCheckpointMs < policy.minIntervalMs) return undefined;
  const needed = Math.max(policy.interval, Math.ceil(tail.liveActions / policy.actionsPerTailCommit));
  return tail.commits >= needed ? 'interval' : undefined;
}

/** The policy from table options: unset fields take the defaults. */
export function checkpointPolicy(options: Partial<CheckpointPolicy> = {}): CheckpointPolicy {
  const policy = { ...DEFAULT_CHECKPOINT_POLICY };
  for (const key of Object.keys(policy) as (keyof CheckpointPolicy)[]) {
    const value = options[key];
    if (value !== undefined && Number.isFinite(value) && value >= 0) policy[key] = value;
  }
  return policy;
}
