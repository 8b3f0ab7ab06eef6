// The Delta table facade: open/create, cached snapshot kept current incrementally, append, maintenance.
import { randomUUID } from 'node:crypto';
import type { Schema, Table } from 'apache-arrow';
import { parseStats, type Action, type AddFile, type CommitInfo, type Metadata, type Protocol, type TxnRequest } from './actions.js';
import { writeCheckpoint } from './checkpoint.js';
import { commit, type CommitOptions, type CommitOutcome } from './commit.js';
import { DeltaError, RetentionTooShortError, TableExistsError, UnsupportedFeatureError } from './errors.js';
import { unsupportedWriterFeature } from './features.js';
import { classifyLogFiles, commitPath, listLog, LOG_FOLDER, readCommit } from './log.js';
import { optimize, type OptimizeOptions, type OptimizeResult } from './optimize.js';
import { cloneState, defaultDeletedFileRetentionMs, expireTombstones, fileKey, parseIntervalMs, type TableState } from './replay.js';
import { arrowSchemaToDelta, type DeltaStructType, type SchemaConversionError } from './schema.js';
import { statsColumns } from './stats.js';
import { Snapshot } from './snapshot.js';
import { advanceState, loadState, type SnapshotSelector } from './snapshotLoader.js';
import { openStorage, type StorageSettings } from './location.js';
import type { Storage } from './storage.js';
import { planLogCleanup, planVacuum, staleLogTempFiles } from './vacuum.js';
import { conformToSchema, splitByPartition, writeDataFiles, type WriteOptions } from './writer.js';
import { serializeCommit } from './actions.js';
import { s3SettingsFromConfig, type S3ConfigSection } from './s3Storage.js';
import { refusedTxns } from './conflicts.js';

export interface DeltaTableOptions extends WriteOptions, CommitOptions, StorageSettings {
  /** Storage to use instead of the one the path names (openStorage); not serializable, so the writer thread builds its own. */
  storage?: Storage;
  /** Write a checkpoint every N commits (config delta.checkpoint_interval; the table property delta.checkpointInterval wins). */
  checkpointInterval?: number;
  /** Log files older than this are cleaned up after checkpoints (config delta.log_retention_days). */
  logRetentionDays?: number;
}

export interface CreateOptions {
  partitionColumns?: string[];
  name?: string;
  description?: string;
  configuration?: Record<string, string>;
}

export interface AppendOptions {
  /** Idempotency markers committed atomically with the rows (one per Kafka partition); see TxnRequest.expectedVersion. */
  txns?: TxnRequest[];
  operation?: string;
}

export type AppendOutcome = CommitOutcome & { filesAdded?: number; checkpointed?: boolean };

/** Data files written by stageAppend and not committed yet. */
export interface StagedAppend {
  adds: AddFile[];
  rows: number;
}

export interface VacuumOptions {
  retentionHours?: number;
  dryRun?: boolean;
  /** Allow a retention under one hour (only when no other reader or writer uses the table). */
  force?: boolean;
}

export interface VacuumResult {
  dryRun: boolean;
  files: string[];
  bytes: number;
}

export interface HistoryEntry {
  version: number;
  timestampMs: number;
  operation: string;
  rowsAdded: number;
  rowsRemoved: number;
  filesAdded: number;
  filesRemoved: number;
  commitInfo: CommitInfo | null;
}

export const MINIMUM_VACUUM_RETENTION_HOURS = 1;

/** Table options from the `delta` section of the pipeline configuration (and its `s3` section for s3:// tables). */
export function deltaOptionsFromConfig(
  delta: { checkpoint_interval: number; log_retention_days: number },
  s3?: S3ConfigSection,
): DeltaTableOptions {
  return {
    checkpointInterval: delta.checkpoint_interval,
    logRetentionDays: delta.log_retention_days,
    ...(s3 ? { s3: s3SettingsFromConfig(s3) } : {}),
  };
}

/** Deletes with a bounded number of requests in flight (an object store gets one request per file). */
async function deleteAll(storage: Storage, paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) await storage.delete(paths[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(16, paths.length) }, worker));
}

export class DeltaTable {
  private state: TableState;

  private constructor(
    readonly path: string,
    readonly storage: Storage,
    state: TableState,
    private readonly options: DeltaTableOptions,
  ) {
    this.state = state;
  }

  /** Opens the table at its latest version. */
  static async open(path: string, options: DeltaTableOptions = {}): Promise<DeltaTable> {
    const storage = options.storage ?? openStorage(path, options);
    const { state } = await loadState(storage, path);
    await storage.verify?.(); // a store that would let commits overwrite each other is refused here
    return new DeltaTable(path, storage, state, options);
  }

  /** Creates a table (version 0: protocol 1/2, metaData); fails with TableExistsError when one exists. */
  static async create(path: string, schema: Schema, create: CreateOptions = {}, options: DeltaTableOptions = {}): Promise<DeltaTable> {
    const storage = options.storage ?? openStorage(path, options);
    let deltaSchema: DeltaStructType;
    try {
      deltaSchema = arrowSchemaToDelta(schema);
    } catch (error) {
      throw new DeltaError(`cannot create ${path}: ${(error as SchemaConversionError).message}`, { tablePath: path, exitCode: 2 });
    }
    for (const column of create.partitionColumns ?? []) {
      const field = deltaSchema.fields.find((candidate) => candidate.name === column);
      if (!field)
        throw new DeltaError(`cannot create ${path}: partition column "${column}" is not in the schema`, { tablePath: path, exitCode: 2 });
      if (typeof field.type !== 'string')
        throw new DeltaError(`cannot create ${path}: partition column "${column}" must have a simple type`, {
          tablePath: path,
          exitCode: 2,
        });
    }
    const now = Date.now();
    const protocol: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };
    const metadata: Metadata = {
      id: randomUUID(),
      name: create.name ?? null,
      description: create.description ?? null,
      format: { provider: 'parquet', options: {} },
      schemaString: JSON.stringify(deltaSchema),
      partitionColumns: create.partitionColumns ?? [],
      configuration: create.configuration ?? {},
      createdTime: now,
    };
    const commitInfo: CommitInfo = {
      timestamp: now,
      operation: 'CREATE TABLE',
      operationParameters: { partitionBy: JSON.stringify(metadata.partitionColumns), mode: 'ErrorIfExists' },
      isBlindAppend: true,
      engineInfo: 'logstream-delta/0.1',
      clientVersion: 'logstream-delta/0.1',
      txnId: randomUUID(),
    };
    const actions: Action[] = [{ commitInfo }, { protocol }, { metaData: metadata }];
    if (!(await storage.putIfAbsent(commitPath(0), serializeCommit(actions)))) throw new TableExistsError(path);
    return DeltaTable.open(path, { ...options, storage });
  }

  /** Opens the table, creating it with `schema` when the path has none (safe when several processes race to create). */
  static async openOrCreate(
    path: string,
    schema: Schema,
    create: CreateOptions = {},
    options: DeltaTableOptions = {},
  ): Promise<DeltaTable> {
    const storage = options.storage ?? openStorage(path, options);
    if (!(await storage.stat(commitPath(0))) && (await listLog(storage, { withTimes: false })).commits.length === 0) {
      try {
        return await DeltaTable.create(path, schema, create, { ...options, storage });
      } catch (error) {
        if (!(error instanceof TableExistsError)) throw error;
      }
    }
    return DeltaTable.open(path, { ...options, storage });
  }

  /** Version of the cached latest state (call update() or snapshot() to see newer commits). */
  get version(): number {
    return this.state.version;
  }

  /** Reads commits newer than the cached state; cheap when there are none. */
  async update(): Promise<number> {
    await advanceState(this.storage, this.path, this.state);
    return this.state.version;
  }

  /** The latest snapshot (updated incrementally), or the one at a version or timestamp (loaded from the log). */
  async snapshot(selector: SnapshotSelector = {}): Promise<Snapshot> {
    if (selector.version === undefined && selector.timestampMs === undefined) {
      await this.update();
      return new Snapshot(this.path, this.storage, cloneState(this.state));
    }
    if (selector.version !== undefined && selector.version === this.state.version)
      return new Snapshot(this.path, this.storage, cloneState(this.state));
    const { state } = await loadState(this.storage, this.path, selector);
    return new Snapshot(this.path, this.storage, state);
  }

  /** Latest committed txn version for appId, from the cached state brought up to date. */
  async txnVersion(appId: string): Promise<number | undefined> {
    await this.update();
    return this.state.txns.get(appId)?.version;
  }

  private assertWritable(): void {
    const feature = unsupportedWriterFeature(this.state.protocol, this.state.metadata);
    if (feature) throw new UnsupportedFeatureError(this.path, feature, 'write');
  }

  private checkpointInterval(): number {
    const property = Number(this.state.metadata?.configuration?.['delta.checkpointInterval']);
    return Number.isInteger(property) && property > 0 ? property : (this.options.checkpointInterval ?? 10);
  }

  /**
   * Appends rows in one atomic commit with the given txns. Returns {status:'refused'} without writing
   * a commit when the table refuses any of the txns: it already holds that version of the appId or a
   * later one, or (with expectedVersion) its version for the appId is not exactly the expected one.
   */
  async append(data: Table, options: AppendOptions = {}): Promise<AppendOutcome> {
    await this.update();
    this.assertWritable();
    const refused = refusedTxns(options.txns ?? [], this.state.txns);
    if (refused.length) return { status: 'refused', refused };
    // One update for both halves: on an object store every update() is a request, and a commit
    // that lost a race catches up with the winners anyway.
    return this.commitWritten(await this.writeFiles(data), options);
  }

  /**
   * The first half of an append: writes the data files without committing them, so a caller that
   * must commit several tables in order can write every table's files at once and then commit
   * quickly one after another. Follow with commitStaged (or discardStaged).
   */
  async stageAppend(data: Table): Promise<StagedAppend> {
    await this.update();
    return this.writeFiles(data);
  }

  private async writeFiles(data: Table): Promise<StagedAppend> {
    this.assertWritable();
    const metadata = this.state.metadata!;
    const schema = JSON.parse(metadata.schemaString);
    const conformed = conformToSchema(this.path, data, schema);
    const groups = data.numRows === 0 ? [] : splitByPartition(conformed, schema, metadata.partitionColumns);
    const columns = statsColumns(
      (schema as DeltaStructType).fields.map((field) => field.name),
      metadata.configuration ?? {},
    );
    return {
      adds: await writeDataFiles(this.storage, groups, metadata.partitionColumns, { ...this.options, statsColumns: columns }),
      rows: data.numRows,
    };
  }

  /** The second half of an append: commits staged files with the txns (same outcomes as append). */
  async commitStaged(staged: StagedAppend, options: AppendOptions = {}): Promise<AppendOutcome> {
    await this.update();
    return this.commitWritten(staged, options);
  }

  private async commitWritten(staged: StagedAppend, options: AppendOptions): Promise<AppendOutcome> {
    this.assertWritable();
    const txns = options.txns ?? [];
    const refused = refusedTxns(txns, this.state.txns);
    if (refused.length) {
      await this.discardStaged(staged);
      return { status: 'refused', refused };
    }
    const { adds } = staged;
    const partitionColumns = this.state.metadata!.partitionColumns;
    const outcome = await commit(
      this.storage,
      this.path,
      this.state,
      {
        actions: adds.map((add): Action => ({ add })),
        txns,
        operation: options.operation ?? 'WRITE',
        operationParameters: { mode: 'Append', partitionBy: JSON.stringify(partitionColumns) },
        operationMetrics: {
          numFiles: String(adds.length),
          numOutputRows: String(staged.rows),
          numOutputBytes: String(adds.reduce((sum, add) => sum + add.size, 0)),
        },
        isBlindAppend: true,
      },
      this.options,
    );
    if (outcome.status === 'refused') {
      await this.discardStaged(staged);
      return outcome;
    }
    let checkpointed = false;
    if (outcome.version > 0 && outcome.version % this.checkpointInterval() === 0) checkpointed = await this.checkpointQuietly();
    return { ...outcome, filesAdded: adds.length, checkpointed };
  }

  /** Deletes staged files that will not be committed: nothing references them, so they need not wait for VACUUM. */
  async discardStaged(staged: StagedAppend): Promise<void> {
    await Promise.all(staged.adds.map((add) => this.storage.delete(decodeURIComponent(add.path)).catch(() => undefined)));
  }

  private async checkpointQuietly(): Promise<boolean> {
    try {
      await this.checkpoint();
      return true;
    } catch {
      return false; // a checkpoint only speeds up reads; the commit already succeeded
    }
  }

  /** Writes a checkpoint of the latest version and cleans up log files past delta.log_retention_days. */
  async checkpoint(): Promise<{ version: number; path: string; actions: number; logFilesDeleted: number }> {
    await this.update();
    const state = cloneState(this.state);
    expireTombstones(
      state,
      Date.now() -
        parseIntervalMs(state.metadata?.configuration?.['delta.deletedFileRetentionDuration'] ?? undefined, defaultDeletedFileRetentionMs),
    );
    const written = await writeCheckpoint(this.storage, state);
    const logFilesDeleted = await this.cleanupLog();
    return { ...written, logFilesDeleted };
  }

  /** Deletes commits and checkpoints older than the log retention that no version inside it needs. */
  async cleanupLog(nowMs = Date.now()): Promise<number> {
    const days = parseIntervalMs(
      this.state.metadata?.configuration?.['delta.logRetentionDuration'] ?? undefined,
      (this.options.logRetentionDays ?? 30) * 86_400_000,
    );
    const files = await this.storage.list(LOG_FOLDER);
    const paths = [...planLogCleanup(classifyLogFiles(files), nowMs, days), ...staleLogTempFiles(files, nowMs - 86_400_000)];
    await deleteAll(this.storage, paths);
    return paths.length;
  }

  async optimize(options: OptimizeOptions = {}): Promise<OptimizeResult> {
    await this.update();
    this.assertWritable();
    const result = await optimize(this.storage, this.path, this.state, { ...this.options, ...options });
    if (result.version !== undefined && result.version % this.checkpointInterval() === 0) await this.checkpointQuietly();
    return result;
  }

  async vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    await this.update();
    this.assertWritable();
    const retentionHours = options.retentionHours ?? 168;
    if (retentionHours < MINIMUM_VACUUM_RETENTION_HOURS && !options.force)
      throw new RetentionTooShortError(this.path, retentionHours, MINIMUM_VACUUM_RETENTION_HOURS);
    const all = await this.storage.list('', { recursive: true });
    const doomed = planVacuum(all, this.state, Date.now(), retentionHours * 3_600_000);
    if (!options.dryRun)
      await deleteAll(
        this.storage,
        doomed.map((file) => file.path),
      );
    return {
      dryRun: Boolean(options.dryRun),
      files: doomed.map((file) => file.path),
      bytes: doomed.reduce((sum, file) => sum + file.sizeBytes, 0),
    };
  }

  /**
   * One entry per commit still in the log (or from `fromVersion` on), oldest first. Rows removed by a
   * remove without stats are counted from the add seen earlier, so a history from a version may count 0.
   */
  async history(options: { fromVersion?: number } = {}): Promise<HistoryEntry[]> {
    // From a version, only the log's tail is listed and read (the health check wants the newest commit).
    const listing = await listLog(this.storage, { fromVersion: options.fromVersion });
    const sizes = new Map<string, number>(); // rows per file, to count rows of removes that carry no stats
    const entries: HistoryEntry[] = [];
    for (const file of listing.commits) {
      const actions = (await readCommit(this.storage, file.version)) ?? [];
      let commitInfo: CommitInfo | null = null;
      const entry: HistoryEntry = {
        version: file.version,
        timestampMs: file.modifiedMs,
        operation: 'UNKNOWN',
        rowsAdded: 0,
        rowsRemoved: 0,
        filesAdded: 0,
        filesRemoved: 0,
        commitInfo: null,
      };
      for (const action of actions) {
        if ('commitInfo' in action) commitInfo = action.commitInfo;
        else if ('add' in action) {
          const rows = parseStats(action.add.stats)?.numRecords ?? 0;
          sizes.set(fileKey(action.add.path), rows);
          entry.filesAdded++;
          if (action.add.dataChange !== false) entry.rowsAdded += rows;
        } else if ('remove' in action) {
          entry.filesRemoved++;
          const rows = parseStats(action.remove.stats)?.numRecords ?? sizes.get(fileKey(action.remove.path)) ?? 0;
          if (action.remove.dataChange !== false) entry.rowsRemoved += rows;
        }
      }
      entry.commitInfo = commitInfo;
      entry.operation = commitInfo?.operation ?? (file.version === 0 ? 'CREATE TABLE' : 'UNKNOWN');
      if (typeof commitInfo?.timestamp === 'number') entry.timestampMs = commitInfo.timestamp;
      entries.push(entry);
    }
    return entries;
  }
}
