// Small Arrow column kernels the JavaScript Arrow library lacks: take (row selection), cast, constants.
import {
  type Data,
  type DataType,
  makeData,
  makeVector,
  Table,
  TimeUnit,
  Type,
  type Vector,
  vectorFromArray,
  type Timestamp,
  Struct,
  Schema,
  RecordBatch,
} from 'apache-arrow';

const fixedWidthTypes = new Set<Type>([Type.Int, Type.Float, Type.Timestamp, Type.Date, Type.Decimal, Type.Time, Type.Duration]);

export function isFixedWidth(type: DataType): boolean {
  return fixedWidthTypes.has(type.typeId);
}

function validityBitmap(length: number, isValid: (index: number) => boolean): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(((length + 63) >> 6) << 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (isValid(i)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { bitmap, nullCount };
}

/** Rows `indices` of a column (any chunking), as one chunk. */
export function takeVector(vector: Vector, indices: ArrayLike<number>): Vector {
  const chunks = vector.data;
  const starts: number[] = [];
  let total = 0;
  for (const chunk of chunks) {
    starts.push(total);
    total += chunk.length;
  }
  const locate = (row: number): [Data, number] => {
    let low = 0;
    let high = chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= row) low = mid;
      else high = mid - 1;
    }
    return [chunks[low]!, row - starts[low]!];
  };
  const type = vector.type as DataType;
  const length = indices.length;
  if (isFixedWidth(type)) {
    const stride = chunks[0]?.stride ?? 1;
    const ArrayType = (chunks[0]?.values?.constructor ??
      (type as unknown as { ArrayType: new (n: number) => ArrayLike<unknown> }).ArrayType) as new (
      n: number,
    ) => { [i: number]: unknown; length: number };
    const values = new ArrayType(length * stride);
    const validity: boolean[] = new Array(length);
    for (let i = 0; i < length; i++) {
      const [chunk, at] = locate(indices[i]!);
      const source = chunk.values as unknown as { [i: number]: unknown };
      for (let s = 0; s < stride; s++) values[i * stride + s] = source[at * stride + s];
      validity[i] = chunk.getValid(at);
    }
    const { bitmap, nullCount } = validityBitmap(length, (i) => validity[i]!);
    return makeVector(makeData({ type, length, nullCount, nullBitmap: nullCount ? bitmap : undefined, data: values } as never));
  }
  if (type.typeId === Type.Struct) {
    const struct = type as Struct;
    const children = struct.children.map(
      (_, childIndex) => takeVector(makeVector(chunks.map((chunk) => chunk.children[childIndex]!)), indices).data[0]!,
    );
    const { bitmap, nullCount } = validityBitmap(length, (i) => {
      const [chunk, at] = locate(indices[i]!);
      return chunk.getValid(at);
    });
    return makeVector(makeData({ type: struct, length, nullCount, nullBitmap: nullCount ? bitmap : undefined, children }));
  }
  if (type.typeId === Type.Utf8 || type.typeId === Type.Binary) {
    // Copy byte ranges directly; building strings through get() is ten times slower.
    const offsets = new Int32Array(length + 1);
    let total = 0;
    for (let i = 0; i < length; i++) {
      const [chunk, at] = locate(indices[i]!);
      const source = chunk.valueOffsets as Int32Array;
      total += source[at + 1]! - source[at]!;
      offsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    const validity: boolean[] = new Array(length);
    for (let i = 0; i < length; i++) {
      const [chunk, at] = locate(indices[i]!);
      const source = chunk.valueOffsets as Int32Array;
      bytes.set((chunk.values as Uint8Array).subarray(source[at]!, source[at + 1]!), offsets[i]!);
      validity[i] = chunk.getValid(at);
    }
    const { bitmap, nullCount } = validityBitmap(length, (i) => validity[i]!);
    return makeVector(
      makeData({ type, length, nullCount, nullBitmap: nullCount ? bitmap : undefined, valueOffsets: offsets, data: bytes } as never),
    );
  }
  const values = new Array<unknown>(length);
  for (let i = 0; i < length; i++) values[i] = vector.get(indices[i]!);
  return vectorFromArray(values as never[], type) as Vector;
}

export function takeTable(table: Table, indices: ArrayLike<number>): Table {
  const columns: Record<string, Vector> = {};
  for (const field of table.schema.fields) columns[field.name] = takeVector(table.getChild(field.name)!, indices);
  return tableFromColumns(table.schema, columns, indices.length);
}

/** A table from named columns, keeping the field order, nullability and metadata of `schema`. */
export function tableFromColumns(schema: Schema, columns: Record<string, Vector>, numRows: number): Table {
  // The schema's own types, not the columns': decoded IPC types (Int_) fail instanceof checks against Int64 and friends.
  const fields = schema.fields;
  const childData = schema.fields.map((field) => {
    const vector = columns[field.name]!;
    return vector.data.length === 1 ? vector.data[0]! : concatData(vector);
  });
  const structType = new Struct(fields);
  const batch = new RecordBatch(
    new Schema(fields, schema.metadata),
    makeData({ type: structType, length: numRows, nullCount: 0, children: childData }) as never,
  );
  return new Table([batch]);
}

function concatData(vector: Vector): Data {
  if (vector.data.length === 0) return nullVector(vector.type, 0).data[0]!;
  const indices = new Int32Array(vector.length);
  for (let i = 0; i < indices.length; i++) indices[i] = i;
  return takeVector(vector, indices).data[0]!;
}

/** A column of `length` nulls. */
export function nullVector(type: DataType, length: number): Vector {
  return vectorFromArray(new Array(length).fill(null), type) as Vector;
}

/** Multiplier from a timestamp unit to microseconds (negative = divide). */
function microsFactor(unit: TimeUnit): bigint {
  switch (unit) {
    case TimeUnit.SECOND:
      return 1_000_000n;
    case TimeUnit.MILLISECOND:
      return 1000n;
    case TimeUnit.MICROSECOND:
      return 1n;
    case TimeUnit.NANOSECOND:
      return -1000n;
  }
}

/**
 * A chunk's 64-bit integers (int64, uint64, timestamps) as 32-bit words, low word first (Arrow's
 * little-endian buffers), or undefined when the chunk is not stored that way. Reading a
 * BigInt64Array makes a BigInt per value; comparing words makes none.
 */
export function int64Words(chunk: Data): Int32Array | undefined {
  const values = chunk.values as unknown;
  if (!(values instanceof BigInt64Array || values instanceof BigUint64Array) || chunk.stride !== 1) return undefined;
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

export function toMicros(raw: bigint, unit: TimeUnit): bigint {
  const factor = microsFactor(unit);
  if (factor > 0n) return raw * factor;
  const divisor = -factor;
  const quotient = raw / divisor;
  return raw % divisor < 0n ? quotient - 1n : quotient;
}

/** Raw epoch-microsecond values of a timestamp column (null for null), whatever its unit. */
export function timestampMicros(vector: Vector): (bigint | null)[] {
  const unit = (vector.type as Timestamp).unit;
  const out: (bigint | null)[] = [];
  for (const chunk of vector.data) {
    const values = chunk.values as unknown as BigInt64Array;
    for (let i = 0; i < chunk.length; i++) out.push(chunk.getValid(i) ? toMicros(BigInt(values[i]!), unit) : null);
  }
  return out;
}

/** A timestamp column from epoch-microsecond values. */
export function timestampVectorFromMicros(values: readonly (bigint | null)[], type: Timestamp): Vector {
  const data = new BigInt64Array(values.length);
  const { bitmap, nullCount } = validityBitmap(values.length, (i) => values[i] !== null);
  for (let i = 0; i < values.length; i++) data[i] = values[i] ?? 0n;
  return makeVector(makeData({ type, length: values.length, nullCount, nullBitmap: nullCount ? bitmap : undefined, data } as never));
}

/** A column repeating one value; timestamps take epoch microseconds (bigint), dates epoch days. */
export function constantVector(type: DataType, value: unknown, length: number): Vector {
  if (value === null || value === undefined) return nullVector(type, length);
  if (type.typeId === Type.Timestamp) return timestampVectorFromMicros(new Array<bigint>(length).fill(value as bigint), type as Timestamp);
  if (type.typeId === Type.Date) {
    const days = new Int32Array(length).fill(Number(value));
    return makeVector(makeData({ type, length, nullCount: 0, data: days } as never));
  }
  return vectorFromArray(new Array(length).fill(value), type) as Vector;
}

function sameType(a: DataType, b: DataType): boolean {
  return a.typeId === b.typeId && String(a) === String(b);
}

/** Casts a column to the type the table schema gives it (timestamp units, integer widths, string kinds, struct children). */
export function castVector(vector: Vector, target: DataType): Vector {
  const source = vector.type as DataType;
  if (sameType(source, target)) return vector;
  if (source.typeId === Type.Timestamp && target.typeId === Type.Timestamp) {
    const targetUnit = (target as Timestamp).unit;
    if (targetUnit === TimeUnit.MICROSECOND) return timestampVectorFromMicros(timestampMicros(vector), target as Timestamp);
  }
  if (source.typeId === Type.Struct && target.typeId === Type.Struct) {
    const targetStruct = target as Struct;
    const chunks = vector.data.map((chunk) => {
      const children = targetStruct.children.map((field) => {
        const index = (source as Struct).children.findIndex((child) => child.name === field.name);
        const child = index >= 0 ? makeVector(chunk.children[index]!) : nullVector(field.type, chunk.length);
        const cast = castVector(child, field.type);
        return cast.data.length === 1 ? cast.data[0]! : concatData(cast);
      });
      return makeData({
        type: targetStruct,
        length: chunk.length,
        nullCount: chunk.nullCount,
        nullBitmap: chunk.nullBitmap,
        children,
        offset: chunk.offset,
      } as never) as Data;
    });
    return makeVector(chunks);
  }
  if (source.typeId === Type.Int && (target.typeId === Type.Int || target.typeId === Type.Float)) {
    const targetArray = (target as unknown as { ArrayType: new (n: number) => { [i: number]: number | bigint } }).ArrayType;
    const bigTarget = targetArray === BigInt64Array || targetArray === BigUint64Array;
    const chunks = vector.data.map((chunk) => {
      const values = new targetArray(chunk.length);
      const sourceValues = chunk.values as unknown as ArrayLike<number | bigint>;
      for (let i = 0; i < chunk.length; i++) values[i] = bigTarget ? BigInt(sourceValues[i]!) : Number(sourceValues[i]!);
      return makeData({
        type: target,
        length: chunk.length,
        nullCount: chunk.nullCount,
        nullBitmap: chunk.nullBitmap,
        offset: chunk.offset,
        data: values,
      } as never) as Data;
    });
    return makeVector(chunks);
  }
  const values: unknown[] = [];
  for (const value of vector) values.push(value);
  return vectorFromArray(values as never[], target) as Vector;
}
