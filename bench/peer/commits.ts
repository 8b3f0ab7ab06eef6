// Engine-neutral view of a Delta table's commits, read straight from `_delta_log` the same way for
// both engines: each version's rows (from the add actions' stats), files and the time its commit
// file was written (the moment its rows became visible to readers).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openSession, sqlString } from '../../clients/duckdb.js';

export interface Commit {
  version: number;
  /** mtime of `_delta_log/<version>.json`. */
  committedAtMs: number;
  rows: number;
  /** Data files added, relative to the table folder (URL-decoded). */
  files: string[];
  /** txn actions of the commit (appId, version). */
  txns: { appId: string; version: number }[];
}

const COMMIT_FILE = /^(\d{20})\.json$/;

/** Follows a table's log as it grows; poll() reads only the versions it has not seen yet. */
export class CommitLog {
  readonly commits: Commit[] = [];
  private seen = new Set<number>();

  constructor(readonly tableDir: string) {}

  get rows(): number {
    return this.commits.reduce((sum, commit) => sum + commit.rows, 0);
  }

  poll(): void {
    let names: string[];
    try {
      names = readdirSync(join(this.tableDir, '_delta_log'));
    } catch {
      return; // not created yet
    }
    const versions = names
      .map((name) => COMMIT_FILE.exec(name))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number(match[1]))
      .filter((version) => !this.seen.has(version))
      .sort((left, right) => left - right);
    for (const version of versions) {
      const file = join(this.tableDir, '_delta_log', `${String(version).padStart(20, '0')}.json`);
      const committedAtMs = statSync(file).mtimeMs;
      const commit: Commit = { version, committedAtMs, rows: 0, files: [], txns: [] };
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const action = JSON.parse(line) as {
          add?: { path: string; stats?: string; dataChange?: boolean };
          txn?: { appId: string; version: number };
        };
        if (action.add && action.add.dataChange !== false) {
          commit.files.push(decodeURIComponent(action.add.path));
          commit.rows += action.add.stats ? ((JSON.parse(action.add.stats) as { numRecords?: number }).numRecords ?? 0) : 0;
        }
        if (action.txn) commit.txns.push({ appId: action.txn.appId, version: Number(action.txn.version) });
      }
      this.seen.add(version);
      this.commits.push(commit);
    }
    this.commits.sort((left, right) => left.version - right.version);
  }

  /** Polls until the table holds at least `rows` rows or the deadline passes. */
  async waitForRows(rows: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<boolean> {
    const deadlineMs = Date.now() + timeoutMs;
    for (;;) {
      this.poll();
      if (this.rows >= rows) return true;
      if (Date.now() > deadlineMs || !isAlive()) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

export interface ThroughputFigures {
  rows: number;
  commits: number;
  /** Rows after the first commit over the time from the first to the last commit. */
  rowsPerSecond: number;
  firstToLastSeconds: number;
  /** All rows over the time from `startedAtMs` to the last commit. */
  rowsPerSecondIncludingStart: number;
  includingStartSeconds: number;
  /**
   * Rows after the commit that passed half the rows, over the time from it to the last commit:
   * the rate once the engine is warm (JIT, caches, consumer state) as it is in a long run.
   */
  secondHalfRowsPerSecond: number;
  meanRowsPerCommit: number;
}

export function throughputOf(commits: readonly Commit[], startedAtMs: number): ThroughputFigures {
  const data = commits.filter((commit) => commit.rows > 0);
  const rows = data.reduce((sum, commit) => sum + commit.rows, 0);
  const first = data[0];
  const last = data.at(-1);
  const firstToLastSeconds = first && last ? (last.committedAtMs - first.committedAtMs) / 1000 : Number.NaN;
  const includingStartSeconds = last ? (last.committedAtMs - startedAtMs) / 1000 : Number.NaN;
  let seen = 0;
  let middle: Commit | undefined;
  for (const commit of data) {
    seen += commit.rows;
    if (seen >= rows / 2) {
      middle = commit;
      break;
    }
  }
  const afterMiddle = rows - seen;
  const secondHalfSeconds = middle && last ? (last.committedAtMs - middle.committedAtMs) / 1000 : Number.NaN;
  return {
    rows,
    commits: data.length,
    rowsPerSecond: (rows - (first?.rows ?? 0)) / firstToLastSeconds,
    firstToLastSeconds,
    rowsPerSecondIncludingStart: rows / includingStartSeconds,
    includingStartSeconds,
    secondHalfRowsPerSecond: afterMiddle > 0 ? afterMiddle / secondHalfSeconds : Number.NaN,
    meanRowsPerCommit: rows / Math.max(1, data.length),
  };
}

export interface LatencySpread {
  rows: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  commits: number;
}

/**
 * Produce-to-visible latency of every row: its commit file's mtime minus the row's Kafka timestamp
 * (`kafka_time`, which both engines store), read back from the Parquet files with DuckDB.
 */
export async function commitLatency(tableDir: string, commits: readonly Commit[]): Promise<LatencySpread> {
  const session = await openSession();
  const latencies: number[] = [];
  try {
    for (const commit of commits) {
      if (commit.files.length === 0) continue;
      const list = commit.files.map((file) => sqlString(join(tableDir, file))).join(', ');
      const rows = await session.query(`SELECT epoch_ms(kafka_time)::BIGINT AS produced FROM read_parquet([${list}])`);
      for (const row of rows) latencies.push(commit.committedAtMs - (row.produced as number));
    }
  } finally {
    session.close();
  }
  latencies.sort((left, right) => left - right);
  const at = (quantile: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(quantile * latencies.length) - 1))]! : Number.NaN;
  return {
    rows: latencies.length,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    commits: commits.filter((commit) => commit.rows > 0).length,
  };
}
