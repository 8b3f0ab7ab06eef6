// OPTIMIZE: bin-pack small files per partition into target-size files; remove+add with dataChange=false.
import { Table } from 'apache-arrow';
import { parseStats, type Action, type AddFile } from './actions.js';
import { commit, type AppliedListener, type CommitOutcome } from './commit.js';
import type { TableState } from './replay.js';
import { readDataFile } from './scan.js';
import { parseDeltaSchema } from './schema.js';
import { statsColumns } from './stats.js';
import type { Storage } from './storage.js';
import { writeDataFiles, type WriteOptions } from './writer.js';

export interface OptimizeOptions extends WriteOptions {
  /** Files smaller than this are compacted; output files aim at this size. Default 128 MiB. */
  targetSizeBytes?: number;
  /** Epoch milliseconds for the removes' deletionTimestamp and the commit (default Date.now). */
  clock?: () => number;
}

export interface OptimizeResult {
  version?: number;
  filesRemoved: number;
  filesAdded: number;
  partitionsOptimized: number;
  bytesRemoved: number;
  bytesAdded: number;
}

/** Groups small files of each partition into bins of about targetSizeBytes; bins of one file are left alone. Pure. */
export function planOptimize(files: Iterable<AddFile>, targetSizeBytes: number): AddFile[][] {
  const byPartition = new Map<string, AddFile[]>();
  for (const add of files) {
    if (Number(add.size) >= targetSizeBytes) continue;
    const key = JSON.stringify(Object.entries(add.partitionValues).sort());
    const list = byPartition.get(key) ?? [];
    list.push(add);
    byPartition.set(key, list);
  }
  const bins: AddFile[][] = [];
  for (const key of [...byPartition.keys()].sort()) {
    const candidates = byPartition.get(key)!.sort((a, b) => (a.path < b.path ? -1 : 1));
    let bin: AddFile[] = [];
    let binBytes = 0;
    for (const add of candidates) {
      if (bin.length && binBytes + Number(add.size) > targetSizeBytes) {
        bins.push(bin);
        bin = [];
        binBytes = 0;
      }
      bin.push(add);
      binBytes += Number(add.size);
    }
    bins.push(bin);
  }
  return bins.filter((bin) => bin.length > 1);
}

export async function optimize(
  storage: Storage,
  tablePath: string,
  state: TableState,
  options: OptimizeOptions = {},
  applied?: AppliedListener,
): Promise<OptimizeResult> {
  const targetSizeBytes = options.targetSizeBytes ?? 128 * 1024 * 1024;
  const bins = planOptimize(state.files.values(), targetSizeBytes);
  const result: OptimizeResult = { filesRemoved: 0, filesAdded: 0, partitionsOptimized: 0, bytesRemoved: 0, bytesAdded: 0 };
  if (bins.length === 0) return result;
  const schema = parseDeltaSchema(state.metadata!.schemaString);
  const partitionColumns = state.metadata!.partitionColumns;
  const dataColumns = schema.fields.map((field) => field.name).filter((name) => !partitionColumns.includes(name));
  const actions: Action[] = [];
  const now = (options.clock ?? Date.now)();
  const partitions = new Set<string>();
  let rowsMoved = 0;
  for (const bin of bins) {
    const tables: Table[] = [];
    for (const add of bin) tables.push(await readDataFile(storage, tablePath, add, schema, partitionColumns, dataColumns));
    const merged = new Table(tables[0]!.schema, tables.flatMap((table) => table.batches) as never);
    const adds = await writeDataFiles(storage, [{ partitionValues: bin[0]!.partitionValues, table: merged }], partitionColumns, {
      ...options,
      dataChange: false,
      // Compacted files are read for months: small beats fast here.
      dictionary: true,
      statsColumns: statsColumns(
        schema.fields.map((field) => field.name),
        state.metadata!.configuration ?? {},
      ),
    });
    for (const add of bin) {
      actions.push({
        remove: {
          path: add.path,
          deletionTimestamp: now,
          dataChange: false,
          extendedFileMetadata: true,
          partitionValues: add.partitionValues,
          size: add.size,
          ...(add.stats ? { stats: add.stats } : {}),
        },
      });
      result.bytesRemoved += Number(add.size);
      rowsMoved += parseStats(add.stats)?.numRecords ?? 0;
    }
    for (const add of adds) {
      actions.push({ add });
      result.bytesAdded += add.size;
    }
    result.filesRemoved += bin.length;
    result.filesAdded += adds.length;
    partitions.add(JSON.stringify(bin[0]!.partitionValues));
  }
  result.partitionsOptimized = partitions.size;
  const outcome: CommitOutcome = await commit(
    storage,
    tablePath,
    state,
    {
      actions,
      operation: 'OPTIMIZE',
      operationParameters: { targetSize: String(targetSizeBytes) },
      operationMetrics: {
        numRemovedFiles: String(result.filesRemoved),
        numAddedFiles: String(result.filesAdded),
        numRemovedBytes: String(result.bytesRemoved),
        numAddedBytes: String(result.bytesAdded),
        numRowsRewritten: String(rowsMoved),
      },
      isBlindAppend: false,
    },
    { clock: options.clock },
    applied,
  );
  if (outcome.status === 'committed') result.version = outcome.version;
  return result;
}
