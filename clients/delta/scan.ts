// Reading a snapshot's rows into Arrow: file pruning, decoding, casting to the table schema, partition columns, row filter.
import { Schema, Table, type Vector } from 'apache-arrow';
import { parseStats, type AddFile } from './actions.js';
import { castVector, constantVector, nullVector, tableFromColumns, takeTable } from './arrowColumns.js';
import { DeltaError, UnsupportedFeatureError } from './errors.js';
import { decodeParquet, decodeParquetColumns } from './parquet.js';
import { isAbsoluteUri, uriToStoragePath } from './partitions.js';
import { fileMayMatch, matchingRows, partitionComparable, type BoundComparison } from './predicate.js';
import { deltaSchemaToArrow, type DeltaStructType } from './schema.js';
import { isNotFound, type Storage } from './storage.js';

export interface ScanPlan {
  /** Files to read, by path (the documented row order: file path, then row position). */
  files: AddFile[];
  /** Files left out by partition pruning or min/max skipping. */
  skippedFiles: number;
}

/** Pure: which active files may hold matching rows, sorted by path. */
export function planScan(files: Iterable<AddFile>, comparisons: readonly BoundComparison[], partitionColumns: readonly string[]): ScanPlan {
  const kept: AddFile[] = [];
  let skippedFiles = 0;
  for (const add of files) {
    if (comparisons.length === 0 || fileMayMatch(comparisons, add, partitionColumns, parseStats(add.stats))) kept.push(add);
    else skippedFiles++;
  }
  kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: kept, skippedFiles };
}

/** Typed partition value for a constant column (timestamps as µs bigint, dates as epoch days). */
function partitionValue(deltaType: string, text: string | null | undefined): unknown {
  return partitionComparable(deltaType, text);
}

/**
 * Files at least this large are read in ranges when a scan wants only some of their columns; smaller
 * ones are read whole, since one request beats a footer request plus one per column chunk.
 */
export const RANGED_READ_MIN_BYTES = 8 * 1024 * 1024;

/** Decodes one data file into the table's Arrow schema (projected to `columns`). */
export async function readDataFile(
  storage: Storage,
  tablePath: string,
  add: AddFile,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  columns?: readonly string[],
): Promise<Table> {
  if (isAbsoluteUri(add.path)) throw new UnsupportedFeatureError(tablePath, 'absolute data file paths (shallow clones)', 'read');
  const arrowSchema = deltaSchemaToArrow(schema);
  const wanted = columns ? arrowSchema.fields.filter((field) => columns.includes(field.name)) : arrowSchema.fields;
  const storagePath = uriToStoragePath(add.path);
  let decoded: Table | undefined;
  try {
    const dataColumns = wanted.filter((field) => !partitionColumns.includes(field.name)).map((field) => field.name);
    const sizeBytes = Number(add.size);
    // A few columns of a large file: fetch the footer and their column chunks, not the whole file.
    if (columns && sizeBytes >= RANGED_READ_MIN_BYTES && dataColumns.length < arrowSchema.fields.length - partitionColumns.length)
      decoded = await decodeParquetColumns({ sizeBytes, read: (start, end) => storage.readRange(storagePath, start, end) }, dataColumns);
    decoded ??= decodeParquet(await storage.read(storagePath));
  } catch (error) {
    if (isNotFound(error))
      throw new DeltaError(`data file ${add.path} of ${tablePath} is missing`, {
        tablePath,
        hint: 'it was deleted outside Delta (or by a VACUUM with too short a retention); read an older version or restore the file',
      });
    throw error;
  }
  const out: Record<string, Vector> = {};
  for (const field of wanted) {
    if (partitionColumns.includes(field.name)) {
      const deltaType = schema.fields.find((candidate) => candidate.name === field.name)!.type as string;
      out[field.name] = constantVector(field.type, partitionValue(deltaType, add.partitionValues[field.name]), decoded.numRows);
      continue;
    }
    const column = decoded.getChild(field.name);
    out[field.name] = column ? castVector(column, field.type) : nullVector(field.type, decoded.numRows);
  }
  return tableFromColumns(new Schema(wanted), out, decoded.numRows);
}

export interface ScanOptions {
  comparisons?: readonly BoundComparison[];
  columns?: readonly string[];
  /** Stop after this many rows (in the documented order). */
  limit?: number;
  /**
   * Read files in ascending order of this column's minimum (from their statistics; files without
   * one first) instead of by path: for readers that want rows roughly in time order.
   */
  filesByMinOf?: string;
}

/** Yields one Arrow table per file that has matching rows, in path order. */
export async function* scanFiles(
  storage: Storage,
  tablePath: string,
  files: Iterable<AddFile>,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  options: ScanOptions = {},
): AsyncGenerator<{ add: AddFile; table: Table }> {
  const comparisons = options.comparisons ?? [];
  const plan = planScan(files, comparisons, partitionColumns);
  if (options.filesByMinOf) plan.files = sortByMinimum(plan.files, options.filesByMinOf);
  // Filter columns must be decoded even when not projected.
  const needed = options.columns ? [...new Set([...options.columns, ...comparisons.map((comparison) => comparison.column)])] : undefined;
  let remaining = options.limit ?? Infinity;
  for (const add of plan.files) {
    if (remaining <= 0) return;
    let table = await readDataFile(storage, tablePath, add, schema, partitionColumns, needed);
    if (comparisons.length) {
      const rows = matchingRows(comparisons, table);
      if (rows.length !== table.numRows) table = takeTable(table, rows);
    }
    if (table.numRows > remaining) table = table.slice(0, remaining);
    if (options.columns) table = table.select(options.columns as string[]);
    if (table.numRows === 0) continue;
    remaining -= table.numRows;
    yield { add, table };
  }
}

/** Files by their statistics' minimum of `column`, stable, files without one first (pure). */
export function sortByMinimum(files: readonly AddFile[], column: string): AddFile[] {
  const minimum = (add: AddFile): unknown => parseStats(add.stats)?.minValues?.[column] ?? add.partitionValues[column];
  const keyed = files.map((add) => ({ add, key: minimum(add) }));
  const rank = (key: unknown) => (key === undefined || key === null ? 0 : 1);
  keyed.sort((a, b) => rank(a.key) - rank(b.key) || compareKeys(a.key, b.key));
  return keyed.map((entry) => entry.add);
}

/** Numbers numerically, anything else (ISO timestamps, text) as strings. */
function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [left, right] = [String(a ?? ''), String(b ?? '')];
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * All matching rows as one Arrow table: the table's columns in schema order, or the asked-for
 * columns in the order asked (as each file's batches are selected); an empty table with that
 * schema when nothing matches.
 */
export async function scanToTable(
  storage: Storage,
  tablePath: string,
  files: Iterable<AddFile>,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  options: ScanOptions = {},
): Promise<Table> {
  const arrowSchema = deltaSchemaToArrow(schema);
  const projected = options.columns
    ? new Schema(options.columns.flatMap((name) => arrowSchema.fields.filter((field) => field.name === name)))
    : arrowSchema;
  const batches = [];
  for await (const { table } of scanFiles(storage, tablePath, files, schema, partitionColumns, options)) batches.push(...table.batches);
  return new Table(projected, batches as never);
}
