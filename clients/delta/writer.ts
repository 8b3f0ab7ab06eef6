// Turns an Arrow table into Parquet data files under Hive-style partition folders, with add actions and stats.
import { randomUUID } from 'node:crypto';
import { type Data, type Table, Type, type Vector } from 'apache-arrow';
import type { AddFile } from './actions.js';
import { castVector, int64Words, nullVector, tableFromColumns, takeTable } from './arrowColumns.js';
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
  const dataOnly = (source: Table) => source.select(dataFields.map((field) => field.name));
  if (partitionColumns.length === 0) return [{ partitionValues: {}, table: dataOnly(table) }];
  const columns = partitionColumns.map((column) =>
    partitionValueIds(table.getChild(column)!, schema.fields.find((field) => field.name === column)!.type as string),
  );
  const { groupOfRow, groups } = groupRows(
    columns.map((column) => column.ids),
    table.numRows,
  );
  const partitionValues = groups.map(({ firstRow }) =>
    Object.fromEntries(partitionColumns.map((column, index) => [column, columns[index]!.values[columns[index]!.ids[firstRow]!]!])),
  );
  if (groups.length === 1) return [{ partitionValues: partitionValues[0]!, table: dataOnly(table) }];
  return groups.map((group, index) => ({
    partitionValues: partitionValues[index]!,
    table: dataOnly(takeTable(table, rowsOfGroup(groupOfRow, index, group.rows))),
  }));
}

/**
 * The group of each row from its columns' value ids. Rows of a streaming batch mostly share their
 * date and hour: a row with the previous row's ids joins its group without building a key.
 * (The loops work on typed arrays only, so their optimised code never meets another table's shapes.)
 */
function groupRows(ids: readonly Int32Array[], rowCount: number): { groupOfRow: Int32Array; groups: { firstRow: number; rows: number }[] } {
  const groupOfRow = new Int32Array(rowCount);
  const groups: { firstRow: number; rows: number }[] = [];
  const byKey = new Map<string, number>();
  let group = -1;
  for (let row = 0; row < rowCount; row++) {
    let changed = row === 0;
    for (let column = 0; column < ids.length && !changed; column++) changed = ids[column]![row] !== ids[column]![row - 1];
    if (changed) {
      const key = ids.map((column) => column[row]).join(',');
      group = byKey.get(key) ?? -1;
      if (group < 0) {
        group = groups.length;
        byKey.set(key, group);
        groups.push({ firstRow: row, rows: 0 });
      }
    }
    groupOfRow[row] = group;
    groups[group]!.rows += 1;
  }
  return { groupOfRow, groups };
}

function rowsOfGroup(groupOfRow: Int32Array, group: number, count: number): Int32Array {
  const rows = new Int32Array(count);
  let filled = 0;
  for (let row = 0; row < groupOfRow.length; row++) if (groupOfRow[row] === group) rows[filled++] = row;
  return rows;
}

/**
 * Per row, the index of its serialised partition value in `values`. A value is serialised only
 * where it differs from the previous row's; strings are compared as UTF-8 bytes in place
 * (decoding every row's date was most of the writer's partitioning time).
 */
function partitionValueIds(vector: Vector, deltaType: string): { ids: Int32Array; values: (string | null)[] } {
  const changed = new Uint8Array(vector.length);
  let start = 0;
  for (const chunk of vector.data) {
    markChanges(chunk, changed.subarray(start, start + chunk.length));
    start += chunk.length;
  }
  const ids = new Int32Array(vector.length);
  const values: (string | null)[] = [];
  const known = new Map<string | null, number>();
  let id = -1;
  for (let row = 0; row < vector.length; row++) {
    if (changed[row]) {
      const text = serializePartitionValue(vector.get(row), deltaType);
      id = known.get(text) ?? -1;
      if (id < 0) {
        id = values.length;
        values.push(text);
        known.set(text, id);
      }
    }
    ids[row] = id;
  }
  return { ids, values };
}

/** Marks (1) each row of a chunk whose value may differ from the row before it; the first row always. */
function markChanges(chunk: Data, changed: Uint8Array): void {
  const valid = chunk.nullCount === 0 ? null : Uint8Array.from({ length: chunk.length }, (_, index) => (chunk.getValid(index) ? 1 : 0));
  const values = chunk.values as unknown;
  const wide = int64Words(chunk);
  if (chunk.type.typeId === Type.Utf8) stringChanges(chunk.valueOffsets as Int32Array, values as Uint8Array, valid, changed);
  else if (wide !== undefined) wordChanges(wide, 2, valid, changed);
  else if (values instanceof Int32Array && chunk.stride === 1) wordChanges(values, 1, valid, changed);
  else changed.fill(1);
  changed[0] = 1;
}

function stringChanges(offsets: Int32Array, bytes: Uint8Array, valid: Uint8Array | null, changed: Uint8Array): void {
  for (let index = 1; index < changed.length; index++) {
    if (valid !== null && valid[index] !== valid[index - 1]) {
      changed[index] = 1;
      continue;
    }
    const start = offsets[index]!;
    const length = offsets[index + 1]! - start;
    const previous = offsets[index - 1]!;
    let same = start - previous === length;
    for (let at = 0; same && at < length; at++) same = bytes[start + at] === bytes[previous + at];
    changed[index] = same ? 0 : 1;
  }
}

function wordChanges(words: Int32Array, width: 1 | 2, valid: Uint8Array | null, changed: Uint8Array): void {
  for (let index = 1; index < changed.length; index++) {
    let same = valid === null || valid[index] === valid[index - 1];
    for (let word = 0; same && word < width; word++) same = words[index * width + word] === words[(index - 1) * width + word];
    changed[index] = same ? 0 : 1;
  }
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
