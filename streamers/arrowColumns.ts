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

export function utf8Column(values: readonly (string | null)[]): Vector<Utf8> {
  const valueOffsets = new Int32Array(values.length + 1);
  let bytes = new Uint8Array(Math.max(64, values.length * 32));
  let position = 0;
  values.forEach((value, index) => {
    if (value !== null && value !== undefined && value.length > 0) {
      // A UTF-16 code unit takes at most 3 UTF-8 bytes.
      if (position + value.length * 3 > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, position + value.length * 3));
        grown.set(bytes.subarray(0, position));
        bytes = grown;
      }
      position += encoder.encodeInto(value, bytes.subarray(position)).written;
    }
    valueOffsets[index + 1] = position;
  });
  const { nullBitmap, nullCount } = validity(values);
  return makeVector(makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap, valueOffsets, data: bytes.subarray(0, position) }));
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

export function int64Column(values: readonly (bigint | number | null)[]): Vector<Int64> {
  const data = new BigInt64Array(values.length);
  values.forEach((value, index) => {
    data[index] = value === null ? 0n : BigInt(value);
  });
  const { nullBitmap, nullCount } = validity(values);
  return makeVector(makeData({ type: new Int64(), length: values.length, nullCount, nullBitmap, data }));
}

/** Epoch milliseconds in, Delta's microsecond UTC timestamps out. */
export function timestampColumn(valuesMs: readonly (number | null)[]): Vector<Timestamp> {
  const data = new BigInt64Array(valuesMs.length);
  valuesMs.forEach((value, index) => {
    data[index] = value === null ? 0n : BigInt(Math.round(value * 1000));
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
