// Conversion between Delta schemas (PROTOCOL.md "Schema Serialization Format") and Arrow schemas.
import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  Map_,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Type,
  Utf8,
} from 'apache-arrow';

export type DeltaPrimitive = string; // "string", "long", "decimal(10,2)", …

export interface DeltaStructType {
  type: 'struct';
  fields: DeltaField[];
}
export interface DeltaArrayType {
  type: 'array';
  elementType: DeltaType;
  containsNull: boolean;
}
export interface DeltaMapType {
  type: 'map';
  keyType: DeltaType;
  valueType: DeltaType;
  valueContainsNull: boolean;
}
export type DeltaType = DeltaPrimitive | DeltaStructType | DeltaArrayType | DeltaMapType;

export interface DeltaField {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export class SchemaConversionError extends Error {}

export function parseDeltaSchema(schemaString: string): DeltaStructType {
  const parsed = JSON.parse(schemaString) as DeltaStructType;
  if (parsed.type !== 'struct' || !Array.isArray(parsed.fields)) throw new SchemaConversionError('schemaString is not a struct type');
  return parsed;
}

const decimalPattern = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** The Arrow type LogStream reads a Delta type into. Timestamps are microseconds UTC, as Delta stores them. */
export function deltaTypeToArrow(type: DeltaType): DataType {
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return new Utf8();
      case 'long':
        return new Int64();
      case 'integer':
        return new Int32();
      case 'short':
        return new Int16();
      case 'byte':
        return new Int8();
      case 'float':
        return new Float32();
      case 'double':
        return new Float64();
      case 'boolean':
        return new Bool();
      case 'binary':
        return new Binary();
      case 'date':
        return new DateDay();
      case 'timestamp':
        return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
      case 'timestamp_ntz':
        return new Timestamp(TimeUnit.MICROSECOND);
      default: {
        const decimal = decimalPattern.exec(type);
        if (decimal) return new Decimal(Number(decimal[2]), Number(decimal[1]), 128);
        throw new SchemaConversionError(`unsupported Delta type "${type}"`);
      }
    }
  }
  switch (type.type) {
    case 'struct':
      return new Struct(type.fields.map(deltaFieldToArrow));
    case 'array':
      return new List(new Field('element', deltaTypeToArrow(type.elementType), type.containsNull));
    case 'map':
      return new Map_(
        new Field(
          'key_value',
          new Struct([
            new Field('key', deltaTypeToArrow(type.keyType), false),
            new Field('value', deltaTypeToArrow(type.valueType), type.valueContainsNull),
          ]),
          false,
        ) as never,
      );
  }
}

export function deltaFieldToArrow(field: DeltaField): Field {
  return new Field(field.name, deltaTypeToArrow(field.type), field.nullable);
}

export function deltaSchemaToArrow(schema: DeltaStructType): Schema {
  return new Schema(schema.fields.map(deltaFieldToArrow));
}

/** The Delta type of an Arrow type; refuses types Delta cannot store (unsigned ints, time of day, …). */
export function arrowTypeToDelta(type: DataType, path: string): DeltaType {
  switch (type.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'string';
    case Type.Bool:
      return 'boolean';
    case Type.Binary:
    case Type.LargeBinary:
      return 'binary';
    case Type.Float: {
      const precision = (type as Float32 | Float64).precision;
      if (precision === 1) return 'float';
      if (precision === 2) return 'double';
      break;
    }
    case Type.Int: {
      const int = type as Int32;
      if (!int.isSigned) throw new SchemaConversionError(`column ${path}: unsigned integers have no Delta type; cast to a signed type`);
      return ({ 8: 'byte', 16: 'short', 32: 'integer', 64: 'long' } as Record<number, string>)[int.bitWidth]!;
    }
    case Type.Decimal: {
      const decimal = type as Decimal;
      return `decimal(${decimal.precision},${decimal.scale})`;
    }
    case Type.Date:
      return 'date';
    case Type.Timestamp: {
      const timestamp = type as Timestamp;
      if (timestamp.timezone == null)
        throw new SchemaConversionError(
          `column ${path}: timestamps without a time zone need the timestampNtz feature; use Timestamp with timezone "UTC"`,
        );
      return 'timestamp';
    }
    case Type.Struct:
      return { type: 'struct', fields: (type as Struct).children.map((child) => arrowFieldToDelta(child, `${path}.${child.name}`)) };
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const element = (type as List).children[0]!;
      return { type: 'array', elementType: arrowTypeToDelta(element.type, `${path}[]`), containsNull: element.nullable };
    }
    case Type.Map: {
      const entries = (type as Map_).children[0]!.type as Struct;
      const [key, value] = entries.children;
      return {
        type: 'map',
        keyType: arrowTypeToDelta(key!.type, `${path}.key`),
        valueType: arrowTypeToDelta(value!.type, `${path}.value`),
        valueContainsNull: value!.nullable,
      };
    }
    case Type.Dictionary:
      return arrowTypeToDelta((type as unknown as { dictionary: DataType }).dictionary, path);
  }
  throw new SchemaConversionError(`column ${path}: Arrow type ${String(type)} has no Delta type`);
}

export function arrowFieldToDelta(field: Field, path = field.name): DeltaField {
  return { name: field.name, type: arrowTypeToDelta(field.type, path), nullable: field.nullable, metadata: {} };
}

export function arrowSchemaToDelta(schema: Schema): DeltaStructType {
  return { type: 'struct', fields: schema.fields.map((field) => arrowFieldToDelta(field)) };
}

/** A readable one-line form of a Delta type, for `table info`. */
export function formatDeltaType(type: DeltaType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'struct':
      return `struct<${type.fields.map((field) => `${field.name}: ${formatDeltaType(field.type)}`).join(', ')}>`;
    case 'array':
      return `array<${formatDeltaType(type.elementType)}>`;
    case 'map':
      return `map<${formatDeltaType(type.keyType)}, ${formatDeltaType(type.valueType)}>`;
  }
}

/** Arrow types that hold the same values as Delta would store them (string vs large string, etc.). */
export function sameDeltaType(a: DeltaType, b: DeltaType): boolean {
  return JSON.stringify(stripMetadata(a)) === JSON.stringify(stripMetadata(b));
}

function stripMetadata(type: DeltaType): unknown {
  if (typeof type === 'string') return type;
  if (type.type === 'struct')
    return { type: 'struct', fields: type.fields.map((field) => ({ name: field.name, type: stripMetadata(field.type) })) };
  if (type.type === 'array') return { type: 'array', elementType: stripMetadata(type.elementType) };
  return { type: 'map', keyType: stripMetadata(type.keyType), valueType: stripMetadata(type.valueType) };
}
