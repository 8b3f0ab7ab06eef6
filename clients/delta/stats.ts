// Per-file statistics for add actions: numRecords, minValues, maxValues, nullCount (PROTOCOL.md "Per-file Statistics").
import { type DataType, Type, type Struct, type Table, type Timestamp, type Vector, makeVector } from 'apache-arrow';
import type { FileStats } from './actions.js';
import { int64Words, timestampMicros, toMicros } from './arrowColumns.js';
import { formatTimestampMicros } from './partitions.js';

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Strings longer than this get a truncated min and no max, as Spark and delta-rs do (keeps the log small). */
export const STATS_STRING_PREFIX_LENGTH = 32;

interface ColumnStats {
  min?: unknown;
  max?: unknown;
  nullCount: number | Record<string, unknown>;
}

/** Millisecond ISO strings for timestamp stats: min rounds down, max rounds up, so skipping never drops a matching file. */
export function timestampStatMin(epochMicros: bigint): string {
  const millis = epochMicros / 1000n - (epochMicros % 1000n < 0n ? 1n : 0n);
  return new Date(Number(millis)).toISOString();
}

export function timestampStatMax(epochMicros: bigint): string {
  const floorMillis = epochMicros / 1000n - (epochMicros % 1000n < 0n ? 1n : 0n);
  const millis = floorMillis * 1000n === epochMicros ? floorMillis : floorMillis + 1n;
  return new Date(Number(millis)).toISOString();
}

function dayToIso(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Smallest and largest valid value of a column stored as 64-bit integers (int64, timestamps);
 * undefined when every value is null, null when the column is stored otherwise. The values are
 * compared as 32-bit halves (int64Words): a BigInt per value was most of the writer's statistics
 * time. Only the results are BigInts.
 */
function int64Extremes(vector: Vector): { min: bigint; max: bigint } | undefined | null {
  let min: bigint | undefined;
  let max: bigint | undefined;
  for (const chunk of vector.data) {
    const words = int64Words(chunk);
    if (words === undefined) return null;
    const values = chunk.values as BigInt64Array | BigUint64Array;
    const signed = values instanceof BigInt64Array;
    const checkNulls = chunk.nullCount > 0;
    let minAt = -1;
    let maxAt = -1;
    let minHigh = 0;
    let minLow = 0;
    let maxHigh = 0;
    let maxLow = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (checkNulls && !chunk.getValid(i)) continue;
      const low = words[2 * i]! >>> 0;
      const high = signed ? words[2 * i + 1]! : words[2 * i + 1]! >>> 0;
      if (minAt < 0 || high < minHigh || (high === minHigh && low < minLow)) {
        minAt = i;
        minHigh = high;
        minLow = low;
      }
      if (maxAt < 0 || high > maxHigh || (high === maxHigh && low > maxLow)) {
        maxAt = i;
        maxHigh = high;
        maxLow = low;
      }
    }
    if (minAt < 0) continue;
    const chunkMin = values[minAt]!;
    const chunkMax = values[maxAt]!;
    if (min === undefined || chunkMin < min) min = chunkMin;
    if (max === undefined || chunkMax > max) max = chunkMax;
  }
  return min === undefined || max === undefined ? undefined : { min, max };
}

function columnStats(vector: Vector): ColumnStats | undefined {
  const type = vector.type as DataType;
  if (type.typeId === Type.Struct) {
    const struct = type as Struct;
    const min: Record<string, unknown> = {};
    const max: Record<string, unknown> = {};
    const nullCount: Record<string, unknown> = {};
    struct.children.forEach((field, index) => {
      const child = makeVector(vector.data.map((chunk) => chunk.children[index]!));
      const stats = columnStats(child);
      if (!stats) return;
      if (stats.min !== undefined) min[field.name] = stats.min;
      if (stats.max !== undefined) max[field.name] = stats.max;
      nullCount[field.name] = stats.nullCount;
    });
    return { min: Object.keys(min).length ? min : undefined, max: Object.keys(max).length ? max : undefined, nullCount };
  }
  if (type.typeId === Type.List || type.typeId === Type.Map || type.typeId === Type.LargeList || type.typeId === Type.FixedSizeList) {
    return { nullCount: vector.nullCount };
  }
  const nullCount = vector.nullCount;
  if (type.typeId === Type.Timestamp) {
    let min: bigint | undefined;
    let max: bigint | undefined;
    const raw = int64Extremes(vector);
    if (raw !== null) {
      // Converting to microseconds keeps the order (it multiplies, or divides rounding down).
      const unit = (type as Timestamp).unit;
      min = raw && toMicros(raw.min, unit);
      max = raw && toMicros(raw.max, unit);
    } else {
      for (const value of timestampMicros(vector)) {
        if (value === null) continue;
        if (min === undefined || value < min) min = value;
        if (max === undefined || value > max) max = value;
      }
    }
    return {
      nullCount,
      min: min === undefined ? undefined : timestampStatMin(min),
      max: max === undefined ? undefined : timestampStatMax(max),
    };
  }
  if (type.typeId === Type.Int || type.typeId === Type.Float || type.typeId === Type.Date) {
    const wide = type.typeId === Type.Int ? int64Extremes(vector) : null;
    let min: number | bigint | undefined = wide?.min;
    let max: number | bigint | undefined = wide?.max;
    let sawNaN = false;
    for (const chunk of wide === null ? vector.data : []) {
      const values = chunk.values as unknown as ArrayLike<number | bigint>;
      const checkNulls = chunk.nullCount > 0;
      for (let i = 0; i < chunk.length; i++) {
        if (checkNulls && !chunk.getValid(i)) continue;
        const value = values[i]!;
        if (typeof value === 'number' && Number.isNaN(value)) {
          sawNaN = true;
          continue;
        }
        if (min === undefined || value < min) min = value;
        if (max === undefined || value > max) max = value;
      }
    }
    if (sawNaN || min === undefined || max === undefined) return { nullCount };
    if (type.typeId === Type.Date) return { nullCount, min: dayToIso(Number(min)), max: dayToIso(Number(max)) };
    if (typeof min === 'bigint' || typeof max === 'bigint') {
      // JSON numbers above 2^53 lose precision; no bound is better than a wrong one.
      const safe = (value: number | bigint) => Number(value) <= Number.MAX_SAFE_INTEGER && Number(value) >= Number.MIN_SAFE_INTEGER;
      if (!safe(min) || !safe(max)) return { nullCount };
      return { nullCount, min: Number(min), max: Number(max) };
    }
    return { nullCount, min, max };
  }
  if (type.typeId === Type.Utf8) {
    // Compare UTF-8 bytes in place (Spark's and delta-rs's order); decode only the two winners.
    let min: Uint8Array | undefined;
    let max: Uint8Array | undefined;
    for (const chunk of vector.data) {
      const offsets = chunk.valueOffsets as Int32Array;
      const bytes = chunk.values as Uint8Array;
      const checkNulls = chunk.nullCount > 0;
      for (let i = 0; i < chunk.length; i++) {
        if (checkNulls && !chunk.getValid(i)) continue;
        const value = bytes.subarray(offsets[i]!, offsets[i + 1]!);
        if (min === undefined || compareBytes(value, min) < 0) min = value;
        if (max === undefined || compareBytes(value, max) > 0) max = value;
      }
    }
    const result: ColumnStats = { nullCount };
    const decoder = new TextDecoder();
    if (min !== undefined) result.min = [...decoder.decode(min)].slice(0, STATS_STRING_PREFIX_LENGTH).join('');
    if (max !== undefined) {
      const text = decoder.decode(max);
      if ([...text].length <= STATS_STRING_PREFIX_LENGTH) result.max = text;
    }
    return result;
  }
  // booleans, binary, decimals: null counts only.
  return { nullCount };
}

/**
 * The columns whose statistics a writer collects (PROTOCOL.md "Per-file Statistics"): the table
 * property delta.dataSkippingStatsColumns when set, else the first delta.dataSkippingNumIndexedCols
 * columns of the schema (default 32, -1 for all). Statistics of long text cost more than they help
 * skipping; a table whose writer knows which columns it filters on names them.
 */
export function statsColumns(schemaColumns: readonly string[], configuration: Readonly<Record<string, string | null>> = {}): Set<string> {
  const named = configuration['delta.dataSkippingStatsColumns'] ?? undefined;
  if (named !== undefined && named.trim() !== '') {
    return new Set(
      named
        .split(',')
        .map((name) => name.trim().replace(/^`|`$/g, '').split('.')[0]!)
        .filter(Boolean),
    );
  }
  const count = Number(configuration['delta.dataSkippingNumIndexedCols'] ?? 32);
  return new Set(Number.isInteger(count) && count >= 0 ? schemaColumns.slice(0, count) : schemaColumns);
}

/** Statistics of the data columns of one file (partition columns excluded by the caller); only `columns` when given. */
export function computeStats(table: Table, columns?: ReadonlySet<string>): FileStats {
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, unknown> = {};
  for (const field of table.schema.fields) {
    if (columns && !columns.has(field.name)) continue;
    const stats = columnStats(table.getChild(field.name)!);
    if (!stats) continue;
    if (stats.min !== undefined) minValues[field.name] = stats.min;
    if (stats.max !== undefined) maxValues[field.name] = stats.max;
    nullCount[field.name] = stats.nullCount;
  }
  return { numRecords: table.numRows, minValues, maxValues, nullCount };
}

export { formatTimestampMicros };
