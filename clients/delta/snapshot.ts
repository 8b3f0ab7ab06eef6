// An immutable view of a table at one version: schema, files, txn versions, and scans.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Schema, Table } from 'apache-arrow';
import { parseStats, type AddFile, type Metadata, type Protocol, type RemoveFile } from './actions.js';
import { bindPredicate, parseWhere, type Predicate } from './predicate.js';
import type { TableState } from './replay.js';
import { scanFiles, scanToTable, planScan } from './scan.js';
import { deltaSchemaToArrow, parseDeltaSchema, type DeltaStructType } from './schema.js';
import { uriToStoragePath } from './partitions.js';
import type { Storage } from './storage.js';

export interface SnapshotScanOptions {
  /** A --where expression string or a parsed predicate. */
  predicate?: string | Predicate;
  columns?: string[];
  limit?: number;
  /** Read files in ascending order of this column's minimum statistic instead of by path (scanBatches only). */
  filesByMinOf?: string;
}

export class Snapshot {
  readonly version: number;
  readonly protocol: Protocol;
  readonly metadata: Metadata;
  readonly schema: DeltaStructType;
  readonly partitionColumns: readonly string[];
  private readonly state: TableState;
  private sortedFiles?: AddFile[];

  constructor(
    readonly tablePath: string,
    private readonly storage: Storage,
    state: TableState,
  ) {
    this.state = state;
    this.version = state.version;
    this.protocol = state.protocol!;
    this.metadata = state.metadata!;
    this.schema = parseDeltaSchema(this.metadata.schemaString);
    this.partitionColumns = this.metadata.partitionColumns;
  }

  get arrowSchema(): Schema {
    return deltaSchemaToArrow(this.schema);
  }

  /** Active files sorted by path. */
  files(): AddFile[] {
    this.sortedFiles ??= [...this.state.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.sortedFiles;
  }

  get fileCount(): number {
    return this.state.files.size;
  }

  /** Removed files the state holds; a snapshot loaded from a checkpoint leaves that checkpoint's own tombstones out. */
  tombstones(): RemoveFile[] {
    return [...this.state.tombstones.values()];
  }

  /** Sum of numRecords over active files, or undefined when a file has no stats. */
  get numRows(): number | undefined {
    let rows = 0;
    for (const add of this.state.files.values()) {
      const stats = parseStats(add.stats);
      if (!stats || typeof stats.numRecords !== 'number') return undefined;
      rows += stats.numRecords;
    }
    return rows;
  }

  get sizeBytes(): number {
    let bytes = 0;
    for (const add of this.state.files.values()) bytes += Number(add.size);
    return bytes;
  }

  /** The latest committed txn version of an application (a Kafka partition for the streamer), or undefined. */
  txnVersion(appId: string): number | undefined {
    return this.state.txns.get(appId)?.version;
  }

  txnVersions(): Record<string, number> {
    return Object.fromEntries(
      [...this.state.txns.values()].sort((a, b) => (a.appId < b.appId ? -1 : 1)).map((txn) => [txn.appId, txn.version]),
    );
  }

  tableProperty(key: string): string | undefined {
    return this.metadata.configuration?.[key] ?? undefined;
  }

  private bind(predicate: string | Predicate | undefined) {
    if (predicate === undefined) return [];
    return bindPredicate(typeof predicate === 'string' ? parseWhere(predicate) : predicate, this.schema);
  }

  /** Files that may hold rows matching the predicate (partition pruning and min/max skipping). */
  plan(predicate?: string | Predicate): { files: AddFile[]; skippedFiles: number } {
    return planScan(this.state.files.values(), this.bind(predicate), this.partitionColumns);
  }

  /** Matching rows as one Arrow table, in file-path then row-position order. */
  async scan(options: SnapshotScanOptions = {}): Promise<Table> {
    return scanToTable(this.storage, this.tablePath, this.state.files.values(), this.schema, this.partitionColumns, {
      comparisons: this.bind(options.predicate),
      columns: options.columns,
      limit: options.limit,
    });
  }

  /** Matching rows file by file, for output that starts before the whole scan is done. */
  scanBatches(options: SnapshotScanOptions = {}): AsyncGenerator<{ add: AddFile; table: Table }> {
    return scanFiles(this.storage, this.tablePath, this.state.files.values(), this.schema, this.partitionColumns, {
      comparisons: this.bind(options.predicate),
      columns: options.columns,
      limit: options.limit,
      filesByMinOf: options.filesByMinOf,
    });
  }

  /**
   * Local paths of data files, for engines that read Parquet themselves (DuckDB): a local table's own
   * files; an object store's files downloaded into `scratchDir` under their table-relative paths (so
   * Hive partition folders stay as they are).
   */
  async localFiles(files: readonly AddFile[], scratchDir: string): Promise<string[]> {
    const paths = files.map((add) => uriToStoragePath(add.path));
    const localPath = this.storage.localPath?.bind(this.storage);
    if (localPath) return paths.map(localPath);
    const out = paths.map((path) => join(scratchDir, ...path.split('/')));
    let next = 0;
    const download = async () => {
      while (next < paths.length) {
        const index = next++;
        await mkdir(dirname(out[index]!), { recursive: true });
        await writeFile(out[index]!, await this.storage.read(paths[index]!));
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, paths.length) }, download));
    return out;
  }
}
