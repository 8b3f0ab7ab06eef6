// The Delta table facade: open/create, cached snapshot kept current incrementally, append, maintenance.
import { randomUUID } from 'node:crypto';
import type { Schema, Table } from 'apache-arrow';
import { parseStats, type Action, type AddFile, type CommitInfo, type Metadata, type Protocol, type TxnRequest } from './actions.js';
import { writeCheckpoint } from './checkpoint.js';
import { checkpointDue, checkpointPolicy, type CheckpointPolicy, type CheckpointReason } from './checkpointPolicy.js';
import { commit, type CommitOptions, type CommitOutcome } from './commit.js';
import { DeltaError, RetentionTooShortError, TableExistsError, UnsupportedFeatureError } from './errors.js';
import { unsupportedWriterFeature } from './features.js';
import { classifyLogFiles, commitPath, listLog, LOG_FOLDER, logExists, readCommit, readCommitFile, readLastCheckpoint } from './log.js';
import { optimize, type OptimizeOptions, type OptimizeResult } from './optimize.js';
import {
  cloneState,
  defaultDeletedFileRetentionMs,
  expireTombstones,
  fileKey,
  liveActionCount,
  parseIntervalMs,
  type TableState,
} from './replay.js';
import { arrowSchemaToDelta, type DeltaStructType, type SchemaConversionError } from './schema.js';
import { statsColumns } from './stats.js';
import { Snapshot } from './snapshot.js';
import { advanceState, loadState, loadTombstones, type LoadedState, type SnapshotSelector } from './snapshotLoader.js';
import { openStorage, type StorageSettings } from './location.js';
import { isNotFound, type Storage } from './storage.js';
import { expiredCheckpointFloor, planLogCleanup, planVacuum, staleLogTempFiles } from './vacuum.js';
import { conformToSchema, splitByPartition, writeDataFiles, type WriteOptions } from './writer.js';
import { serializeCommit } from './actions.js';
import { s3SettingsFromConfig, type S3ConfigSection } from './s3Storage.js';
import { refusedTxns } from './conflicts.js';

/**
 * Table options. All are plain data (the streamer posts them to its writer thread) except `storage`
 * and `clock` (CommitOptions), which only a caller on the same thread can pass.
 */
export interface DeltaTableOptions extends WriteOptions, CommitOptions, StorageSettings {
  /** Storage to use instead of the one the path names (openStorage); not serializable, so the writer thread builds its own. */
  storage?: Storage;
  /**
   * A checkpoint is due after at least this many commits (config delta.checkpoint_interval, default 100; more on a
   * table with many live files, see checkpointPolicy.ts). The table property delta.checkpointInterval wins and is exact.
   */
  checkpointInterval?: number;
  /** At most one checkpoint per this long while the tail is within its bounds (config delta.checkpoint_min_interval_seconds). */
  checkpointMinIntervalSeconds?: number;
  /** A checkpoint is due at this many commits after the last one, whatever the table's size (config delta.checkpoint_max_tail_commits). */
  checkpointMaxTailCommits?: number;
  /** …or at this many MiB of JSON commits after it (config delta.checkpoint_max_tail_mb). */
  checkpointMaxTailMb?: number;
  /** Log files older than this are cleaned up after checkpoints (config delta.log_retention_days). */
  logRetentionDays?: number;
}

/** What the scheduled maintenance did to one table (maintain()). */
export interface MaintenanceResult {
  optimized: OptimizeResult;
  checkpoint: { version: number; path: string; actions: number; logFilesDeleted: number };
  vacuumed?: VacuumResult;
}

/** A writer cleans up the log after its own checkpoints at most this often; the scheduled maintenance does it too. */
const LOG_CLEANUP_INTERVAL_MS = 3_600_000;

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
  delta: {
    checkpoint_interval: number;
    checkpoint_min_interval_seconds?: number;
    checkpoint_max_tail_commits?: number;
    checkpoint_max_tail_mb?: number;
    log_retention_days: number;
  },
  s3?: S3ConfigSection,
): DeltaTableOptions {
  return {
    checkpointInterval: delta.checkpoint_interval,
    ...(delta.checkpoint_min_interval_seconds !== undefined ? { checkpointMinIntervalSeconds: delta.checkpoint_min_interval_seconds } : {}),
    ...(delta.checkpoint_max_tail_commits !== undefined ? { checkpointMaxTailCommits: delta.checkpoint_max_tail_commits } : {}),
    ...(delta.checkpoint_max_tail_mb !== undefined ? { checkpointMaxTailMb: delta.checkpoint_max_tail_mb } : {}),
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
  private readonly policy: CheckpointPolicy;
  /** The log after the newest checkpoint this writer knows of: what the checkpoint policy weighs. */
  private tail: { checkpointVersion?: number; bytes: number; checkpointSeenMs: number };
  private lastCleanupMs = Number.NEGATIVE_INFINITY;

  private constructor(
    readonly path: string,
    readonly storage: Storage,
    loaded: LoadedState,
    private readonly options: DeltaTableOptions,
  ) {
    this.state = loaded.state;
    // When the checkpoint it opened from was written is unknown: the first due one is not held back.
    this.tail = { checkpointVersion: loaded.checkpointVersion, bytes: loaded.tailBytes, checkpointSeenMs: Number.NEGATIVE_INFINITY };
    this.policy = checkpointPolicy({
      interval: options.checkpointInterval,
      minIntervalMs: options.checkpointMinIntervalSeconds === undefined ? undefined : options.checkpointMinIntervalSeconds * 1000,
      maxTailCommits: options.checkpointMaxTailCommits,
      maxTailBytes: options.checkpointMaxTailMb === undefined ? undefined : options.checkpointMaxTailMb * 1024 * 1024,
    });
  }

  /** Opens the table at its latest version. */
  static async open(path: string, options: DeltaTableOptions = {}): Promise<DeltaTable> {
    const storage = options.storage ?? openStorage(path, options);
    const loaded = await loadState(storage, path);
    await storage.verify?.(); // a store that would let commits overwrite each other is refused here
    return new DeltaTable(path, storage, loaded, options);
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Counts a version applied to the cached state into the log tail. */
  private readonly applied = (_version: number, bytes: number): void => {
    this.tail.bytes += bytes;
  };

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
    const now = (options.clock ?? Date.now)();
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
    if (!(await logExists(storage))) {
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
    for (const commit of await advanceState(this.storage, this.path, this.state)) this.applied(commit.version, commit.bytes);
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

  /** When appId's txn was last committed (its lastUpdated, epoch ms), from the cached state brought up to date. */
  async txnUpdatedAt(appId: string): Promise<number | undefined> {
    await this.update();
    return this.state.txns.get(appId)?.lastUpdated ?? undefined;
  }

  private assertWritable(): void {
    const feature = unsupportedWriterFeature(this.state.protocol, this.state.metadata);
    if (feature) throw new UnsupportedFeatureError(this.path, feature, 'write');
  }

  /** The table property delta.checkpointInterval, when set: checkpoints every that many commits, as Delta Spark writes them. */
  private fixedCheckpointInterval(): number | undefined {
    const property = Number(this.state.metadata?.configuration?.['delta.checkpointInterval']);
    return Number.isInteger(property) && property > 0 ? property : undefined;
  }

  /** Why a checkpoint of the latest version is due now (checkpointPolicy.ts), or undefined. */
  checkpointDue(): CheckpointReason | undefined {
    return checkpointDue(
      {
        commits: this.state.version - (this.tail.checkpointVersion ?? 0),
        bytes: this.tail.bytes,
        liveActions: liveActionCount(this.state),
        sinceCheckpointMs: this.now() - this.tail.checkpointSeenMs,
      },
      this.policy,
      this.fixedCheckpointInterval(),
    );
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
      this.applied,
    );
    if (outcome.status === 'refused') {
      await this.discardStaged(staged);
      return outcome;
    }
    const checkpointed = await this.maybeCheckpoint();
    return { ...outcome, filesAdded: adds.length, checkpointed };
  }

  /** Deletes staged files that will not be committed: nothing references them, so they need not wait for VACUUM. */
  async discardStaged(staged: StagedAppend): Promise<void> {
    await Promise.all(staged.adds.map((add) => this.storage.delete(decodeURIComponent(add.path)).catch(() => undefined)));
  }

  /**
   * The checkpoint a commit may leave behind: written when the policy says one is due, unless
   * another writer's (its _last_checkpoint) already covers enough of the tail; the log is cleaned up
   * after it at most once an hour. Never fails the commit: a checkpoint only speeds up reads.
   */
  private async maybeCheckpoint(): Promise<boolean> {
    if (!this.checkpointDue()) return false;
    try {
      const hint = await readLastCheckpoint(this.storage);
      const known = this.tail.checkpointVersion ?? 0;
      if (hint && hint.version > known && hint.version <= this.state.version) {
        // Several writers on one table: adopt the newer checkpoint, its share of the tail's bytes estimated.
        const share = (this.state.version - hint.version) / Math.max(1, this.state.version - known);
        this.tail = { checkpointVersion: hint.version, bytes: Math.round(this.tail.bytes * share), checkpointSeenMs: this.now() };
        if (!this.checkpointDue()) return false;
      }
      await this.checkpoint({ cleanup: this.now() - this.lastCleanupMs >= LOG_CLEANUP_INTERVAL_MS });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes a checkpoint of the latest version (with every unexpired tombstone) and, unless told not
   * to, cleans up log files past delta.log_retention_days.
   */
  async checkpoint(
    options: { cleanup?: boolean } = {},
  ): Promise<{ version: number; path: string; actions: number; logFilesDeleted: number }> {
    await this.update();
    // The load left the checkpoint's tombstones out; a checkpoint must carry them on.
    await this.loadTombstones();
    // Expired tombstones leave the cached state too: a fresh load would not see them either.
    expireTombstones(
      this.state,
      this.now() -
        parseIntervalMs(
          this.state.metadata?.configuration?.['delta.deletedFileRetentionDuration'] ?? undefined,
          defaultDeletedFileRetentionMs,
        ),
    );
    const state = cloneState(this.state);
    const written = await writeCheckpoint(this.storage, state);
    this.tail = { checkpointVersion: state.version, bytes: 0, checkpointSeenMs: this.now() };
    const logFilesDeleted = options.cleanup === false ? 0 : await this.cleanupLog();
    return { ...written, logFilesDeleted };
  }

  /**
   * Deletes commits and checkpoints older than the log retention that no version inside it needs:
   * everything below the newest checkpoint whose commit is past the retention (PROTOCOL.md "Metadata
   * Cleanup"). The log is listed by name only; file times are read for a few checkpoints' commits.
   */
  async cleanupLog(nowMs = this.now()): Promise<number> {
    const retentionMs = parseIntervalMs(
      this.state.metadata?.configuration?.['delta.logRetentionDuration'] ?? undefined,
      (this.options.logRetentionDays ?? 30) * 86_400_000,
    );
    this.lastCleanupMs = this.now();
    const files = await this.storage.list(LOG_FOLDER, { withMetadata: false });
    const listing = classifyLogFiles(files);
    const listedTimes = new Map(files.map((file) => [file.path, file.modifiedMs]));
    const timeOf = async (path: string) => {
      const listed = listedTimes.get(path);
      return listed !== undefined && Number.isFinite(listed) ? listed : (await this.storage.stat(path))?.modifiedMs;
    };
    const floor = await expiredCheckpointFloor(listing.checkpoints, nowMs - retentionMs, async (checkpoint) => {
      // The commit's time is the version's time; a checkpoint without its commit file goes by its own (later) time.
      return (await timeOf(commitPath(checkpoint.version))) ?? (await timeOf(checkpoint.paths[0]!));
    });
    const temps = files.filter((file) => file.path.slice(LOG_FOLDER.length).startsWith('.tmp-'));
    const tempTimes = await Promise.all(temps.map(async (file) => ({ ...file, modifiedMs: (await timeOf(file.path)) ?? nowMs })));
    const paths = [...planLogCleanup(listing, floor), ...staleLogTempFiles(tempTimes, nowMs - 86_400_000)];
    await deleteAll(this.storage, paths);
    return paths.length;
  }

  async optimize(options: OptimizeOptions = {}): Promise<OptimizeResult> {
    return this.optimizeThen(options, true);
  }

  private async optimizeThen(options: OptimizeOptions, checkpointAfter: boolean): Promise<OptimizeResult> {
    await this.update();
    this.assertWritable();
    const result = await optimize(this.storage, this.path, this.state, { ...this.options, ...options }, this.applied);
    // An OPTIMIZE commit carries a remove and an add per file moved: its JSON alone may make a checkpoint due.
    if (result.version !== undefined && checkpointAfter) await this.maybeCheckpoint();
    return result;
  }

  /**
   * Reads the tombstones the snapshot load left out. Should the checkpoint they are in have been
   * cleaned up meanwhile (a process that ran past the log retention), the latest state is loaded
   * afresh with its tombstones.
   */
  private async loadTombstones(): Promise<void> {
    try {
      await loadTombstones(this.storage, this.state);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const loaded = await loadState(this.storage, this.path, {}, { tombstones: true });
      this.state = loaded.state;
      this.tail = { checkpointVersion: loaded.checkpointVersion, bytes: loaded.tailBytes, checkpointSeenMs: this.tail.checkpointSeenMs };
    }
  }

  /**
   * What the scheduled maintenance does to a table (workflows/maintenance.ts): OPTIMIZE, a checkpoint
   * with log cleanup, then VACUUM.
   */
  async maintain(
    options: { targetSizeBytes?: number; vacuumRetentionHours?: number; skipVacuum?: boolean } = {},
  ): Promise<MaintenanceResult> {
    const optimized = await this.optimizeThen({ targetSizeBytes: options.targetSizeBytes }, false);
    const checkpoint = await this.checkpoint();
    const vacuumed = options.skipVacuum ? undefined : await this.vacuum({ retentionHours: options.vacuumRetentionHours });
    return { optimized, checkpoint, ...(vacuumed ? { vacuumed } : {}) };
  }

  async vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    await this.update();
    this.assertWritable();
    const retentionHours = options.retentionHours ?? 168;
    if (retentionHours < MINIMUM_VACUUM_RETENTION_HOURS && !options.force)
      throw new RetentionTooShortError(this.path, retentionHours, MINIMUM_VACUUM_RETENTION_HOURS);
    await this.loadTombstones(); // files removed inside the window are kept by their tombstones
    const all = await this.storage.list('', { recursive: true });
    const doomed = planVacuum(all, this.state, this.now(), retentionHours * 3_600_000);
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
    const sizes = new Map<string, number>(); // rows per file, to count rows of removes that carry no stats
    const entries: HistoryEntry[] = [];
    for await (const file of this.historyCommits(options.fromVersion)) {
      const actions = file.actions;
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
      else if (!Number.isFinite(entry.timestampMs))
        entry.timestampMs = (await this.storage.stat(commitPath(file.version)))?.modifiedMs ?? Number.NaN;
      entries.push(entry);
    }
    return entries;
  }

  /**
   * The commits of history(): every one in the log, or those from a version on, read forward until
   * the first missing version without listing the log (the health check asks for the newest one).
   */
  private async *historyCommits(fromVersion?: number): AsyncGenerator<{ version: number; modifiedMs: number; actions: Action[] }> {
    if (fromVersion === undefined) {
      for (const file of (await listLog(this.storage)).commits)
        yield { version: file.version, modifiedMs: file.modifiedMs, actions: (await readCommit(this.storage, file.version)) ?? [] };
      return;
    }
    let file = await readCommitFile(this.storage, fromVersion);
    if (!file) {
      // Cleaned up (or not written yet): what is left from that version on, by listing.
      for (const listed of (await listLog(this.storage, { fromVersion })).commits)
        if (listed.version >= fromVersion)
          yield { version: listed.version, modifiedMs: listed.modifiedMs, actions: (await readCommit(this.storage, listed.version)) ?? [] };
      return;
    }
    for (let version = fromVersion; file; file = await readCommitFile(this.storage, ++version))
      yield { version, modifiedMs: Number.NaN, actions: file.actions };
  }
}
