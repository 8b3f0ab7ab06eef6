// Opens the lakehouse for SQL: each Delta table's snapshot (its active files only, so removed
// and not-yet-committed files never count) becomes a DuckDB view named after the table.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogstreamError } from '../config/errors.js';
import { DeltaTable, type Snapshot } from '../clients/delta/index.js';
import { openSession, sqlString, type SqlSession } from '../clients/duckdb.js';

export interface Lakehouse {
  session: SqlSession;
  /** Versions of the tables opened, by table name. */
  versions: Record<string, number>;
}

/** Absolute paths of a snapshot's active data files (Delta stores them relative and URL-encoded). */
export function activeFilePaths(snapshot: Snapshot): string[] {
  return snapshot.files().map((file) => join(snapshot.tablePath, ...file.path.split('/').map(decodeURIComponent)));
}

async function createView(session: SqlSession, name: string, snapshot: Snapshot): Promise<void> {
  const files = activeFilePaths(snapshot);
  if (files.length === 0)
    throw new LogstreamError(`table ${snapshot.tablePath} has no rows yet`, {
      hint: 'run the pipeline (npm start) or `logstream replay FILE` first',
    });
  const list = `[${files.map(sqlString).join(', ')}]`;
  // Partition values live in the Delta log and in the Hive-style folder names, not in the files.
  await session.query(`CREATE VIEW ${name} AS SELECT * FROM read_parquet(${list}, hive_partitioning = true, union_by_name = true)`);
}

/** Opens `logs` (required) and `anomalies` (when present) under the Delta root. */
export async function openLakehouse(root: string, options: { version?: number } = {}): Promise<Lakehouse> {
  const logsPath = join(root, 'logs');
  if (!existsSync(join(logsPath, '_delta_log'))) {
    throw new LogstreamError(`no logs table under ${root}`, {
      exitCode: 2,
      hint: "set delta.root (or --root) to the folder that holds the pipeline's tables",
    });
  }
  const session = await openSession();
  try {
    const versions: Record<string, number> = {};
    const logs = await (await DeltaTable.open(logsPath)).snapshot(options.version === undefined ? {} : { version: options.version });
    await createView(session, 'logs', logs);
    versions.logs = logs.version;
    const anomaliesPath = join(root, 'anomalies');
    if (existsSync(join(anomaliesPath, '_delta_log'))) {
      const anomalies = await (await DeltaTable.open(anomaliesPath)).snapshot();
      if (anomalies.fileCount > 0) {
        await createView(session, 'anomalies', anomalies);
        versions.anomalies = anomalies.version;
      }
    }
    return { session, versions };
  } catch (error) {
    session.close();
    throw error;
  }
}
