// Turns an Arrow table into Parquet data files under Hive-style partition folders, with add actions and stats.
import { randomUUID } from 'node:crypto';
import { Schema, type Table, type Vector } from 'apache-arrow';
import type { AddFile } from './actions.js';
import { castVector, nullVector, tableFromColumns, takeTable } from './arrowColumns.js';
import { SchemaMismatchError } from './errors.js';
import { encodeParquet, type ParquetCompression } from './parquet.js';
import { partitionFolder, serializePartitionValue, storagePathToUri } from './partitions.js';
import {
  arrowTypeToDelta,
  deltaSchemaToArrow,
  formatDeltaType,
  sameDeltaType,
  type SchemaConversionError,
  type DeltaStructType,
  type DeltaType,
} from './schema.js';
import { computeStats } from './stats.js';
import type { Storage } from './storage.js';

export interface WriteOptions {
  compression?: ParquetCompression;
  /** Rows per data file at most; larger partitions are split. */
  maxRowsPerFile?: number;
  rowGroupRows?: number;
  /**
   * Dictionary-encode data files (default true). A streaming writer's small files go faster without
   * (they are rewritten by OPTIMIZE, which always uses dictionaries).
   */
  dictionary?: boolean;
}

/** What writeDataFiles needs to know about the table beyond the rows. */
export interface DataFileOptions extends WriteOptions {
  dataChange?: boolean;
  /** Columns to collect statistics for (statsColumns); all when absent. */
  statsColumns?: ReadonlySet<string>;
}

/** Casts `data` to the table schema: same names, compatible types; missing nullable columns become null. */
export function conformToSchema(tablePath: string, data: Table, schema: DeltaStructType): Table {
  const arrowSchema = deltaSchemaToArrow(schema);
  const columns: Record<string, Vector> = {};
  for (const field of data.schema.fields) {
    const target = schema.fields.find((candidate) => candidate.name === field.name);
    if (!target) throw new SchemaMismatchError(tablePath, `column "${field.name}" is not in the table schema`);
    let deltaType: DeltaType;
    try {
      deltaType = arrowTypeToDelta(field.type, field.name);
    } catch (error) {
      throw new SchemaMismatchError(tablePath, (error as SchemaConversionError).message);
    }
    if (
      !sameDeltaType(deltaType, target.type) &&
      !(typeof deltaType === 'string' && typeof target.type === 'string' && widens(deltaType, target.type))
    ) {
      throw new SchemaMismatchError(
        tablePath,
        `column "${field.name}" is ${formatDeltaType(deltaType)}, the table has ${formatDeltaType(target.type)}`,
      );
    }
  }
  for (const field of arrowSchema.fields) {
    const column = data.getChild(field.name);
    if (column) {
      if (!field.nullable && column.nullCount > 0)
        throw new SchemaMismatchError(tablePath, `column "${field.name}" is not nullable but has ${column.nullCount} nulls`);
      columns[field.name] = castVector(column, field.type);
    } else {
      if (!field.nullable) throw new SchemaMismatchError(tablePath, `non-nullable column "${field.name}" is missing`);
      columns[field.name] = nullVector(field.type, data.numRows);
    }
  }
  return tableFromColumns(arrowSchema, columns, data.numRows);
}

function widens(from: string, to: string): boolean {
  const order = ['byte', 'short', 'integer', 'long'];
  return order.indexOf(from) >= 0 && order.indexOf(to) >= order.indexOf(from);
}

export interface PartitionGroup {
  partitionValues: Record<string, string | null>;
  /** Data columns only (partition columns are stored in the path, not the file). */
  table: Table;
}

/** Splits a conformed table by partition values. Pure. */
export function splitByPartition(table: Table, schema: DeltaStructType, partitionColumns: readonly string[]): PartitionGroup[] {
  const dataFields = table.schema.fields.filter((field) => !partitionColumns.includes(field.name));
  const dataSchema = new Schema(dataFields);
  const dataOnly = (source: Table) => source.select(dataFields.map((field) => field.name));
  if (partitionColumns.length === 0) return [{ partitionValues: {}, table: dataOnly(table) }];
  const types = partitionColumns.map((column) => schema.fields.find((field) => field.name === column)!.type as string);
  const vectors = partitionColumns.map((column) => table.getChild(column)!);
  const groups = new Map<string, { values: Record<string, string | null>; rows: number[] }>();
  const serialized = vectors.map((vector, index) => {
    const values: (string | null)[] = new Array(table.numRows);
    const type = types[index]!;
    let row = 0;
    for (const value of vector as Iterable<unknown>) values[row++] = serializePartitionValue(value, type);
    return values;
  });
  for (let row = 0; row < table.numRows; row++) {
    const key = serialized.map((values) => values[row] ?? '\u0000null').join('\u0001');
    let group = groups.get(key);
    if (!group) {
      group = { values: Object.fromEntries(partitionColumns.map((column, index) => [column, serialized[index]![row] ?? null])), rows: [] };
      groups.set(key, group);
    }
    group.rows.push(row);
  }
  void dataSchema;
  return [...groups.values()].map((group) => ({
    partitionValues: group.values,
    table: dataOnly(groups.size === 1 ? table : takeTable(table, group.rows)),
  }));
}

/** Writes the groups as Parquet files and returns their add actions (dataChange as given). */
export async function writeDataFiles(
  storage: Storage,
  groups: readonly PartitionGroup[],
  partitionColumns: readonly string[],
  options: DataFileOptions = {},
): Promise<AddFile[]> {
  const compression = options.compression ?? 'snappy';
  const maxRows = options.maxRowsPerFile ?? 2_000_000;
  const adds: AddFile[] = [];
  const writes: Promise<void>[] = [];
  let part = 0;
  for (const group of groups) {
    for (let offset = 0; offset < group.table.numRows || (offset === 0 && group.table.numRows === 0); offset += maxRows) {
      const slice = group.table.numRows > maxRows ? group.table.slice(offset, offset + maxRows) : group.table;
      if (slice.numRows === 0) break;
      const bytes = encodeParquet(slice, { compression, rowGroupRows: options.rowGroupRows, dictionary: options.dictionary });
      const folder = partitionColumns.length ? `${partitionFolder(partitionColumns, group.partitionValues)}/` : '';
      const storagePath = `${folder}part-${String(part++).padStart(5, '0')}-${randomUUID()}-c000.${compression === 'uncompressed' ? '' : `${compression}.`}parquet`;
      writes.push(storage.put(storagePath, bytes));
      adds.push({
        path: storagePathToUri(storagePath),
        partitionValues: group.partitionValues,
        size: bytes.length,
        modificationTime: Date.now(),
        dataChange: options.dataChange ?? true,
        stats: JSON.stringify(computeStats(slice, options.statsColumns)),
      });
    }
  }
  await Promise.all(writes);
  return adds;
}
