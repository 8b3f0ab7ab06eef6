// Opens the lakehouse for SQL: each Delta table's snapshot (its active files only, so removed
// and not-yet-committed files never count) becomes a DuckDB view named after the table. DuckDB
// reads local files itself; files of an object store (s3://) are fetched by the Delta engine's
// storage into a scratch folder first, since DuckDB's httpfs extension cannot be installed here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogstreamError } from '../config/errors.js';
import {
  DeltaTable,
  isUrlLocation,
  tableExists,
  tablePath,
  type AddFile,
  type Snapshot,
  type StorageSettings,
} from '../clients/delta/index.js';
import { openSession, sqlString, type SqlSession } from '../clients/duckdb.js';

export interface Lakehouse {
  session: SqlSession;
  /** Versions of the tables opened, by table name. */
  versions: Record<string, number>;
}

export interface OpenLakehouseOptions extends StorageSettings {
  version?: number;
  /** The report's time window: files of a remote table whose event_time statistics fall outside it are not fetched. */
  fromMs?: number;
  toMs?: number;
}

/** Files of a remote table that may hold rows of the window (at least one, so the view keeps its columns). */
function filesToFetch(snapshot: Snapshot, options: OpenLakehouseOptions): AddFile[] {
  const files = snapshot.files();
  const conditions = [
    options.fromMs === undefined ? undefined : `event_time >= '${new Date(options.fromMs).toISOString()}'`,
    options.toMs === undefined ? undefined : `event_time < '${new Date(options.toMs).toISOString()}'`,
  ].filter((condition) => condition !== undefined);
  if (conditions.length === 0 || !snapshot.schema.fields.some((field) => field.name === 'event_time')) return files;
  const kept = snapshot.plan(conditions.join(' and ')).files;
  return kept.length ? kept : files.slice(0, 1);
}

async function createView(session: SqlSession, name: string, snapshot: Snapshot, files: string[]): Promise<void> {
  if (files.length === 0)
    throw new LogstreamError(`table ${snapshot.tablePath} has no rows yet`, {
      hint: 'run the pipeline (npm start) or `logstream replay FILE` first',
    });
  const list = `[${files.map(sqlString).join(', ')}]`;
  // Partition values live in the Delta log and in the Hive-style folder names, not in the files.
  await session.query(`CREATE VIEW ${name} AS SELECT * FROM read_parquet(${list}, hive_partitioning = true, union_by_name = true)`);
}

/** Opens `logs` (required) and `anomalies` (when present) under the Delta root (a folder or s3://bucket/prefix). */
export async function openLakehouse(root: string, options: OpenLakehouseOptions = {}): Promise<Lakehouse> {
  const logsPath = tablePath(root, 'logs');
  if (!(await tableExists(logsPath, options))) {
    throw new LogstreamError(`no logs table under ${root}`, {
      exitCode: 2,
      hint: "set delta.root (or --root) to the folder that holds the pipeline's tables",
    });
  }
  const scratch = isUrlLocation(root) ? mkdtempSync(join(tmpdir(), 'logstream-analytics-')) : undefined;
  const session = await openSession();
  const close = () => {
    session.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const versions: Record<string, number> = {};
    const tableOptions = { s3: options.s3 };
    const logs = await (await DeltaTable.open(logsPath, tableOptions)).snapshot(
      options.version === undefined ? {} : { version: options.version },
    );
    const logFiles = scratch ? filesToFetch(logs, options) : logs.files();
    await createView(session, 'logs', logs, await logs.localFiles(logFiles, join(scratch ?? '', 'logs')));
    versions.logs = logs.version;
    const anomaliesPath = tablePath(root, 'anomalies');
    if (await tableExists(anomaliesPath, options)) {
      const anomalies = await (await DeltaTable.open(anomaliesPath, tableOptions)).snapshot();
      if (anomalies.fileCount > 0) {
        await createView(session, 'anomalies', anomalies, await anomalies.localFiles(anomalies.files(), join(scratch ?? '', 'anomalies')));
        versions.anomalies = anomalies.version;
      }
    }
    return { session: { query: session.query.bind(session), close }, versions };
  } catch (error) {
    close();
    throw error;
  }
}
