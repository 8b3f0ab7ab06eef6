// Fast Arrow column builders: typed arrays filled in one pass and wrapped with makeData, about ten
// times quicker than apache-arrow's generic builders (vectorFromArray) on the streamer's hot path.
import { Bool, Float64, Int32, Int64, TimeUnit, Timestamp, Utf8, makeData, makeVector, type Vector } from 'apache-arrow';

interface Validity {
  nullBitmap: Uint8Array | undefined;
  nullCount: number;
}

function validity<T>(values: readonly (T | null | undefined)[]): Validity {
  let nullCount = 0;
  for (const value of values) if (value === null || value === undefined) nullCount += 1;
  if (nullCount === 0) return { nullBitmap: undefined, nullCount };
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((value, index) => {
    if (value !== null && value !== undefined) nullBitmap[index >> 3]! |= 1 << (index & 7);
  });
  return { nullBitmap, nullCount };
}

const encoder = new TextEncoder();

const NON_ASCII = /[^\x00-\x7f]/;

export function utf8Column(values: readonly (string | null)[]): Vector<Utf8> {
  const valueOffsets = new Int32Array(values.length + 1);
  const { nullBitmap, nullCount } = validity(values);
  // Access logs are nearly all ASCII: then one join and one Latin-1 copy replace per-value encoding.
  const joined = values.map((value) => value ?? '').join('');
  if (!NON_ASCII.test(joined)) {
    let position = 0;
    values.forEach((value, index) => {
      position += value ? value.length : 0;
      valueOffsets[index + 1] = position;
    });
    const data = Buffer.from(joined, 'latin1');
    return makeVector(makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap, valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
  }
  let bytes = new Uint8Array(Math.max(64, joined.length * 3));
  let position = 0;
  values.forEach((value, index) => {
    if (value) position += encoder.encodeInto(value, bytes.subarray(position)).written;
    valueOffsets[index + 1] = position;
  });
  bytes = bytes.subarray(0, position);
  return makeVector(makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap, valueOffsets, data: bytes }));
}

export function int32Column(values: readonly (number | null)[]): Vector<Int32> {
  const data = new Int32Array(values.length);
  values.forEach((value, index) => {
    data[index] = value ?? 0;
  });
  const { nullBitmap, nullCount } = validity(values);
  return makeVector(makeData({ type: new Int32(), length: values.length, nullCount, nullBitmap, data }));
}

export function float64Column(values: readonly (number | null)[]): Vector<Float64> {
  const data = new Float64Array(values.length);
  values.forEach((value, index) => {
    data[index] = value ?? 0;
  });
  const { nullBitmap, nullCount } = validity(values);
  return makeVector(makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap, data }));
}

/** Writes whole numbers below 2^53 into a BigInt64Array's memory without creating BigInts. */
function setInt64(words: Uint32Array, index: number, value: number): void {
  const low = value % 4_294_967_296;
  const unsignedLow = low < 0 ? low + 4_294_967_296 : low;
  words[index * 2] = unsignedLow;
  words[index * 2 + 1] = Math.floor((value - unsignedLow) / 4_294_967_296) >>> 0;
}

export function int64Column(values: readonly (bigint | number | null)[]): Vector<Int64> {
  const data = new BigInt64Array(values.length);
  const words = new Uint32Array(data.buffer);
  values.forEach((value, index) => {
    if (typeof value === 'bigint') data[index] = value;
    else if (value !== null) setInt64(words, index, value);
  });
  const { nullBitmap, nullCount } = validity(values);
  return makeVector(makeData({ type: new Int64(), length: values.length, nullCount, nullBitmap, data }));
}

/** Epoch milliseconds in, Delta's microsecond UTC timestamps out. */
export function timestampColumn(valuesMs: readonly (number | null)[]): Vector<Timestamp> {
  const data = new BigInt64Array(valuesMs.length);
  const words = new Uint32Array(data.buffer);
  valuesMs.forEach((value, index) => {
    if (value !== null) setInt64(words, index, Math.round(value * 1000));
  });
  const { nullBitmap, nullCount } = validity(valuesMs);
  return makeVector(makeData({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), length: valuesMs.length, nullCount, nullBitmap, data }));
}

export function boolColumn(values: readonly (boolean | null)[]): Vector<Bool> {
  const data = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((value, index) => {
    if (value) data[index >> 3]! |= 1 << (index & 7);
  });
  const { nullBitmap, nullCount } = validity(values);
  return makeVector(makeData({ type: new Bool(), length: values.length, nullCount, nullBitmap, data }));
}
