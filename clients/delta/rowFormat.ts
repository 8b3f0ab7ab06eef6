// Rows as JSON-ready values (the stable output of `logstream table rows`): timestamps as ISO-8601 UTC
// with microseconds, dates YYYY-MM-DD, longs as numbers (strings beyond ±2^53), decimals as strings, binary as base64.
import { type DataType, Type, type Field, type Table, type Vector, type Struct, makeVector, type Decimal } from 'apache-arrow';
import { timestampMicros } from './arrowColumns.js';
import { formatTimestampMicros } from './partitions.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function plainNumber(value: bigint | number): number | string {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
}

function decimalText(words: Uint32Array, scale: number): string {
  let value = 0n;
  for (let i = words.length - 1; i >= 0; i--) value = (value << 32n) | BigInt(words[i]!);
  const bits = BigInt(words.length * 32);
  if (value >> (bits - 1n)) value -= 1n << bits;
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}

/** The JSON values of one column. */
export function columnToJson(vector: Vector): JsonValue[] {
  const type = vector.type as DataType;
  switch (type.typeId) {
    case Type.Timestamp:
      return timestampMicros(vector).map((value) => (value === null ? null : formatTimestampMicros(value)));
    case Type.Date:
      return Array.from(vector as Iterable<unknown>, (value) =>
        value === null ? null : new Date(Number(value)).toISOString().slice(0, 10),
      );
    case Type.Int:
    case Type.Float:
      return Array.from(vector as Iterable<unknown>, (value) => (value === null ? null : plainNumber(value as number | bigint)));
    case Type.Decimal: {
      const scale = (type as Decimal).scale;
      const out: JsonValue[] = [];
      for (const chunk of vector.data) {
        const words = chunk.values as unknown as Uint32Array;
        const stride = chunk.stride;
        for (let i = 0; i < chunk.length; i++)
          out.push(chunk.getValid(i) ? decimalText(words.subarray(i * stride, (i + 1) * stride), scale) : null);
      }
      return out;
    }
    case Type.Binary:
    case Type.LargeBinary:
      return Array.from(vector as Iterable<Uint8Array | null>, (value) => (value === null ? null : Buffer.from(value).toString('base64')));
    case Type.Struct: {
      const struct = type as Struct;
      const children = struct.children.map(
        (field, index) => [field.name, columnToJson(makeVector(vector.data.map((chunk) => chunk.children[index]!)))] as const,
      );
      const out: JsonValue[] = [];
      for (let i = 0; i < vector.length; i++)
        out.push(vector.isValid(i) ? Object.fromEntries(children.map(([name, values]) => [name, values[i]!])) : null);
      return out;
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
      return Array.from(vector as Iterable<Vector | null>, (value) => (value === null ? null : columnToJson(value)));
    case Type.Map:
      return Array.from(vector as Iterable<{ toJSON(): Record<string, unknown> } | null>, (value) =>
        value === null
          ? null
          : (JSON.parse(
              JSON.stringify(value.toJSON(), (_, inner) => (typeof inner === 'bigint' ? plainNumber(inner) : inner)),
            ) as JsonValue),
      );
    default:
      return Array.from(vector as Iterable<unknown>, (value) => (value === null || value === undefined ? null : (value as JsonValue)));
  }
}

/** Rows of a table as objects in schema column order. */
export function tableToJsonRows(table: Table): Record<string, JsonValue>[] {
  const fields: Field[] = table.schema.fields;
  const columns = fields.map((field) => columnToJson(table.getChild(field.name)!));
  const rows: Record<string, JsonValue>[] = [];
  for (let row = 0; row < table.numRows; row++) {
    const out: Record<string, JsonValue> = {};
    for (const [index, field] of fields.entries()) out[field.name] = columns[index]![row]!;
    rows.push(out);
  }
  return rows;
}
