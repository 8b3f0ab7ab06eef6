// Arrow columns of a checkpoint built straight into typed arrays. Arrow JS's generic builders cost
// about 60 µs per action (per-value UTF-8 encoding, nested builders), which made a checkpoint of a
// streaming table's tens of thousands of files and tombstones take seconds. Pure.
import { Bool, type Data, type DataType, type Field, Int32, Int64, List, Map_, makeData, Struct, Utf8 } from 'apache-arrow';

/** One checkpoint column's rows: `values[i]` is row i's struct, or null when the row is another action. */
type Row = Record<string, unknown> | null;

function validity(length: number, isValid: (index: number) => boolean): { nullBitmap?: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(((length + 63) >> 6) << 3);
  let nullCount = 0;
  for (let index = 0; index < length; index++) {
    if (isValid(index)) bitmap[index >> 3]! |= 1 << (index & 7);
    else nullCount++;
  }
  return nullCount ? { nullBitmap: bitmap, nullCount } : { nullCount: 0 };
}

function utf8Data(type: DataType, values: readonly (string | null | undefined)[]): Data {
  const valueOffsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value != null) total += Buffer.byteLength(value, 'utf8');
    valueOffsets[index + 1] = total;
  }
  const bytes = Buffer.allocUnsafe(total);
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value?.length) bytes.write(value, valueOffsets[index]!, 'utf8');
  }
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return makeData({ type: type as Utf8, length: values.length, valueOffsets, data, ...validity(values.length, (i) => values[i] != null) });
}

function int64Data(type: DataType, values: readonly unknown[]): Data {
  const data = new BigInt64Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value != null) data[index] = BigInt(Math.trunc(Number(value)));
  }
  return makeData({ type: type as Int64, length: values.length, data, ...validity(values.length, (i) => values[i] != null) });
}

function int32Data(type: DataType, values: readonly unknown[]): Data {
  const data = new Int32Array(values.length);
  for (let index = 0; index < values.length; index++) data[index] = Number(values[index] ?? 0);
  return makeData({ type: type as Int32, length: values.length, data, ...validity(values.length, (i) => values[i] != null) });
}

function boolData(type: DataType, values: readonly unknown[]): Data {
  const data = new Uint8Array(((values.length + 63) >> 6) << 3);
  for (let index = 0; index < values.length; index++) if (values[index] === true) data[index >> 3]! |= 1 << (index & 7);
  return makeData({ type: type as Bool, length: values.length, data, ...validity(values.length, (i) => values[i] != null) });
}

/** map<string, string>: one entry list per row (object keys in insertion order), null entries allowed. */
function mapData(type: Map_, values: readonly unknown[]): Data {
  const entriesType = type.children[0]!.type as Struct;
  const keys: string[] = [];
  const entryValues: (string | null)[] = [];
  const valueOffsets = new Int32Array(values.length + 1);
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as Record<string, unknown> | null | undefined;
    if (value != null)
      for (const [key, inner] of Object.entries(value)) {
        keys.push(key);
        entryValues.push(inner == null ? null : String(inner));
      }
    valueOffsets[index + 1] = keys.length;
  }
  const entries = makeData({
    type: entriesType,
    length: keys.length,
    nullCount: 0,
    children: [utf8Data(entriesType.children[0]!.type, keys), utf8Data(entriesType.children[1]!.type, entryValues)],
  });
  return makeData({ type, length: values.length, valueOffsets, child: entries, ...validity(values.length, (i) => values[i] != null) });
}

/** list<string>. */
function stringListData(type: List, values: readonly unknown[]): Data {
  const items: (string | null)[] = [];
  const valueOffsets = new Int32Array(values.length + 1);
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as readonly unknown[] | null | undefined;
    if (value != null) for (const item of value) items.push(item == null ? null : String(item));
    valueOffsets[index + 1] = items.length;
  }
  return makeData({
    type,
    length: values.length,
    valueOffsets,
    child: utf8Data(type.children[0]!.type, items),
    ...validity(values.length, (i) => values[i] != null),
  });
}

/** A column of `type` from one value per row (structs as objects). Supports the types of the checkpoint schema. */
export function columnData(type: DataType, values: readonly unknown[]): Data {
  if (type instanceof Struct) return structData(type, values as readonly Row[]);
  if (type instanceof Utf8) return utf8Data(type, values as readonly (string | null)[]);
  if (type instanceof Int64) return int64Data(type, values);
  if (type instanceof Int32) return int32Data(type, values);
  if (type instanceof Bool) return boolData(type, values);
  if (type instanceof Map_) return mapData(type, values);
  if (type instanceof List) return stringListData(type, values);
  throw new Error(`checkpoint column type ${String(type)} is not supported`);
}

function structData(type: Struct, rows: readonly Row[]): Data {
  const children = type.children.map((field: Field) =>
    columnData(
      field.type,
      rows.map((row) => (row === null ? null : (row[field.name] ?? null))),
    ),
  );
  return makeData({ type, length: rows.length, children, ...validity(rows.length, (i) => rows[i] !== null) });
}
