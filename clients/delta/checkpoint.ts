// Checkpoints: the table state of one version as Parquet (PROTOCOL.md "Checkpoints"), read and written.
import {
  Bool,
  Field,
  Int32,
  Int64,
  List,
  makeVector,
  Map_,
  Schema,
  Struct,
  Table,
  Utf8,
  type DataType,
  type Vector,
  RecordBatch,
  makeData,
  Type,
} from 'apache-arrow';
import { columnData } from './checkpointColumns.js';
import type { Action, RemoveFile } from './actions.js';
import { decodeParquet, encodeParquet, openParquetParts } from './parquet.js';
import { LAST_CHECKPOINT_PATH, LOG_FOLDER, versionName, type CheckpointFiles } from './log.js';
import type { TableState } from './replay.js';
import type { Storage } from './storage.js';

/** Plain JavaScript values from Arrow rows: structs and maps become objects, lists arrays, int64 numbers. */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return value;
  const candidate = value as { toJSON?: () => unknown; toArray?: () => unknown; [Symbol.iterator]?: unknown };
  if (Array.isArray(value)) return value.map(toPlain);
  if (
    typeof candidate.toJSON === 'function' &&
    !(
      typeof (value as { numChildren?: unknown }).numChildren === 'number' &&
      typeof candidate.toArray === 'function' &&
      (value as { type?: { typeId?: number } }).type?.typeId !== Type.Map
    )
  ) {
    const json = candidate.toJSON();
    if (Array.isArray(json)) return json.map(toPlain);
    if (json && typeof json === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(json)) out[key] = toPlain(inner);
      return out;
    }
    return json;
  }
  if (typeof candidate.toArray === 'function') return Array.from(value as Iterable<unknown>, toPlain);
  return value;
}

const actionColumns = ['txn', 'add', 'remove', 'metaData', 'protocol'] as const;

/**
 * Reads a column's rows as plain values, column-wise (row objects from Arrow are slow for nested
 * structs). `dropNullFields` leaves a struct's null fields out (an action's absent optional fields).
 */
function columnReader(vector: Vector, dropNullFields = false): (row: number) => unknown {
  const type = vector.type as DataType;
  const single = vector.data.length === 1 ? vector.data[0]! : undefined;
  const isValid = single ? (row: number) => single.getValid(row) : (row: number) => vector.isValid(row);
  if (type.typeId === Type.Struct) {
    const fields = (type as Struct).children;
    const children = fields.map(
      (field, index) => [field.name, columnReader(makeVector(vector.data.map((chunk) => chunk.children[index]!)))] as const,
    );
    return (row) => {
      if (!isValid(row)) return null;
      const out: Record<string, unknown> = {};
      for (const [name, read] of children) {
        const value = read(row);
        if (value !== null || !dropNullFields) out[name] = value;
      }
      return out;
    };
  }
  if (type.typeId === Type.Utf8 && single) {
    // Buffer#toString decodes UTF-8 several times faster than the TextDecoder call Arrow makes per value.
    const values = single.values as Uint8Array;
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const offsets = single.valueOffsets as Int32Array;
    return (row) =>
      single.getValid(row) ? bytes.toString('utf8', offsets[single.offset + row]!, offsets[single.offset + row + 1]!) : null;
  }
  if (type.typeId === Type.Map && vector.data.length === 1) {
    const data = vector.data[0]!;
    const offsets = data.valueOffsets as Int32Array;
    const entries = data.children[0]!;
    const keys = columnReader(makeVector(entries.children[0]!));
    const values = columnReader(makeVector(entries.children[1]!));
    return (row) => {
      if (!data.getValid(row)) return null;
      const out: Record<string, unknown> = {};
      for (let entry = offsets[data.offset + row]!; entry < offsets[data.offset + row + 1]!; entry++)
        out[String(keys(entry))] = values(entry);
      return out;
    };
  }
  if (type.typeId === Type.Map) {
    return (row) => {
      const value = vector.get(row) as { toJSON(): Record<string, unknown> } | null;
      return value === null ? null : value.toJSON();
    };
  }
  if (type.typeId === Type.List) {
    return (row) => {
      const value = vector.get(row) as Iterable<unknown> | null;
      return value === null ? null : Array.from(value, toPlain);
    };
  }
  if (type.typeId === Type.Int && (type as Int64).bitWidth === 64) {
    return (row) => {
      const value = vector.get(row) as bigint | null;
      return value === null ? null : Number(value);
    };
  }
  return (row) => vector.get(row) ?? null;
}

/** Actions stored in a checkpoint's Parquet parts (commitInfo is never in a checkpoint). */
export function checkpointTableToActions(table: Table): Action[] {
  const actions: Action[] = [];
  // Batch by batch, so every column is one chunk and readers index it directly.
  for (const batch of table.batches) {
    const columns = actionColumns
      .map((name) => [name, batch.getChild(name)] as const)
      .filter((entry): entry is readonly [(typeof actionColumns)[number], Vector] => entry[1] !== null)
      .map(([name, column]) => [name, column, columnReader(column, true)] as const);
    appendBatchActions(actions, batch.numRows, columns);
  }
  return actions;
}

function appendBatchActions(
  actions: Action[],
  numRows: number,
  columns: readonly (readonly [string, Vector, (row: number) => unknown])[],
): void {
  for (let row = 0; row < numRows; row++) {
    for (const [name, column, read] of columns) {
      if (!column.isValid(row)) continue;
      const plain = read(row) as Record<string, unknown>;
      if ((name === 'add' || name === 'remove' || name === 'txn') && plain[name === 'txn' ? 'appId' : 'path'] == null) continue; // all-null structs some writers emit
      // partitionValues keeps null entries (a null partition value), and is {} rather than absent.
      if ((name === 'add' || name === 'remove') && plain.partitionValues === undefined) plain.partitionValues = {};
      actions.push({ [name]: plain } as unknown as Action);
    }
  }
}

export async function readCheckpoint(storage: Storage, checkpoint: CheckpointFiles): Promise<Action[]> {
  const parts = await Promise.all(checkpoint.paths.map(async (path) => checkpointTableToActions(decodeParquet(await storage.read(path)))));
  return parts.flat();
}

/**
 * A checkpoint's actions without its tombstones, which only VACUUM and the next checkpoint need: the
 * `remove` column is not decoded, and of this engine's own checkpoints only row group 0 is read.
 * `tombstones` counts the rows left out (tombstones, and actions this engine does not keep).
 */
export async function readCheckpointWithoutTombstones(
  storage: Storage,
  checkpoint: CheckpointFiles,
): Promise<{ actions: Action[]; tombstones: number }> {
  const parts = await Promise.all(
    checkpoint.paths.map(async (path) => {
      const parquet = await openParquetParts(await storage.read(path));
      try {
        const ours = parquet.metadata.get(CHECKPOINT_LAYOUT_KEY) === TOMBSTONES_AFTER_FIRST_ROW_GROUP && parquet.numRowGroups > 0;
        const table = await parquet.read({ columns: ['txn', 'add', 'metaData', 'protocol'], ...(ours ? { rowGroups: [0] } : {}) });
        const actions = checkpointTableToActions(table);
        return { actions, tombstones: parquet.numRows - actions.length };
      } finally {
        parquet.free();
      }
    }),
  );
  return { actions: parts.flatMap((part) => part.actions), tombstones: parts.reduce((sum, part) => sum + part.tombstones, 0) };
}

/** A checkpoint's tombstones alone (the `remove` column of every row group). */
export async function readCheckpointTombstones(storage: Storage, checkpoint: CheckpointFiles): Promise<RemoveFile[]> {
  const parts = await Promise.all(
    checkpoint.paths.map(async (path) => {
      const parquet = await openParquetParts(await storage.read(path));
      try {
        const table = await parquet.read({ columns: ['remove'] });
        if (!table.getChild('remove')) return [];
        return checkpointTableToActions(table).flatMap((action) => ('remove' in action ? [action.remove] : []));
      } finally {
        parquet.free();
      }
    }),
  );
  return parts.flat();
}

const stringMap = () =>
  new Map_(new Field('key_value', new Struct([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]), false) as never);
const stringList = () => new List(new Field('element', new Utf8(), true));

/** The checkpoint schema this engine writes: the columns readers need for protocol 1/2 tables. */
export const checkpointSchema = new Schema([
  new Field(
    'txn',
    new Struct([
      new Field('appId', new Utf8(), true),
      new Field('version', new Int64(), true),
      new Field('lastUpdated', new Int64(), true),
    ]),
    true,
  ),
  new Field(
    'add',
    new Struct([
      new Field('path', new Utf8(), true),
      new Field('partitionValues', stringMap(), true),
      new Field('size', new Int64(), true),
      new Field('modificationTime', new Int64(), true),
      new Field('dataChange', new Bool(), true),
      new Field('stats', new Utf8(), true),
      new Field('tags', stringMap(), true),
    ]),
    true,
  ),
  new Field(
    'remove',
    new Struct([
      new Field('path', new Utf8(), true),
      new Field('deletionTimestamp', new Int64(), true),
      new Field('dataChange', new Bool(), true),
      new Field('extendedFileMetadata', new Bool(), true),
      new Field('partitionValues', stringMap(), true),
      new Field('size', new Int64(), true),
      new Field('tags', stringMap(), true),
    ]),
    true,
  ),
  new Field(
    'metaData',
    new Struct([
      new Field('id', new Utf8(), true),
      new Field('name', new Utf8(), true),
      new Field('description', new Utf8(), true),
      new Field('format', new Struct([new Field('provider', new Utf8(), true), new Field('options', stringMap(), true)]), true),
      new Field('schemaString', new Utf8(), true),
      new Field('partitionColumns', stringList(), true),
      new Field('configuration', stringMap(), true),
      new Field('createdTime', new Int64(), true),
    ]),
    true,
  ),
  new Field(
    'protocol',
    new Struct([
      new Field('minReaderVersion', new Int32(), true),
      new Field('minWriterVersion', new Int32(), true),
      new Field('readerFeatures', stringList(), true),
      new Field('writerFeatures', stringList(), true),
    ]),
    true,
  ),
]);

/**
 * Schema metadata of the checkpoints this engine writes: every row before the first tombstone is in
 * row group 0, so a reader that does not want tombstones (every snapshot load but VACUUM's and the
 * next checkpoint's) reads that row group alone. Other readers ignore it.
 */
export const CHECKPOINT_LAYOUT_KEY = 'logstream.checkpoint.layout';
export const TOMBSTONES_AFTER_FIRST_ROW_GROUP = 'tombstones-after-row-group-0';

/** Rows per row group at least: a checkpoint of a few files and many tombstones stays a few row groups. */
const MIN_ROW_GROUP_ROWS = 16_384;

/** Builds the checkpoint rows of a state: protocol, metaData, txns, adds, then tombstones. Pure. */
export function stateToCheckpointTable(state: TableState): Table {
  if (state.tombstoneSource)
    throw new Error(`internal: the tombstones of checkpoint ${state.tombstoneSource.version} must be loaded before writing a checkpoint`);
  const columns: Record<(typeof actionColumns)[number], unknown[]> = { txn: [], add: [], remove: [], metaData: [], protocol: [] };
  const push = (name: (typeof actionColumns)[number], value: unknown) => {
    for (const column of actionColumns) columns[column].push(column === name ? value : null);
  };
  if (state.protocol) {
    const { minReaderVersion, minWriterVersion, readerFeatures, writerFeatures } = state.protocol;
    push('protocol', {
      minReaderVersion,
      minWriterVersion,
      readerFeatures: readerFeatures ?? null,
      writerFeatures: writerFeatures ?? null,
    });
  }
  if (state.metadata) {
    const m = state.metadata;
    push('metaData', {
      id: m.id,
      name: m.name ?? null,
      description: m.description ?? null,
      format: { provider: m.format.provider, options: m.format.options ?? {} },
      schemaString: m.schemaString,
      partitionColumns: m.partitionColumns,
      configuration: m.configuration ?? {},
      createdTime: m.createdTime ?? null,
    });
  }
  for (const txn of state.txns.values()) push('txn', { appId: txn.appId, version: txn.version, lastUpdated: txn.lastUpdated ?? null });
  for (const add of state.files.values()) {
    push('add', {
      path: add.path,
      partitionValues: add.partitionValues,
      size: add.size,
      modificationTime: add.modificationTime,
      dataChange: false,
      stats: add.stats ?? null,
      tags: add.tags ?? null,
    });
  }
  for (const remove of state.tombstones.values()) {
    push('remove', {
      path: remove.path,
      deletionTimestamp: remove.deletionTimestamp ?? null,
      dataChange: false,
      extendedFileMetadata: remove.extendedFileMetadata ?? false,
      partitionValues: remove.partitionValues ?? null,
      size: remove.size ?? null,
      tags: remove.tags ?? null,
    });
  }
  const length = columns.txn.length;
  const children = checkpointSchema.fields.map((field) =>
    columnData(field.type as DataType, columns[field.name as (typeof actionColumns)[number]]),
  );
  const schema = new Schema(checkpointSchema.fields, new Map([[CHECKPOINT_LAYOUT_KEY, TOMBSTONES_AFTER_FIRST_ROW_GROUP]]));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }) as never);
  return new Table([batch]);
}

/** Rows per row group that puts every row before the tombstones into row group 0. */
export function checkpointRowGroupRows(table: Table): number {
  const removes = table.getChild('remove');
  const tombstones = removes ? removes.length - removes.nullCount : 0;
  return Math.max(MIN_ROW_GROUP_ROWS, table.numRows - tombstones);
}

/** Writes a single-part checkpoint for the state's version and points _last_checkpoint at it. */
export async function writeCheckpoint(storage: Storage, state: TableState): Promise<{ version: number; path: string; actions: number }> {
  const table = stateToCheckpointTable(state);
  const path = `${LOG_FOLDER}${versionName(state.version)}.checkpoint.parquet`;
  await storage.put(path, encodeParquet(table, { compression: 'snappy', rowGroupRows: checkpointRowGroupRows(table) }));
  await storage.put(LAST_CHECKPOINT_PATH, JSON.stringify({ version: state.version, size: table.numRows }));
  return { version: state.version, path, actions: table.numRows };
}
