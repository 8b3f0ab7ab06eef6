// Simple predicates: the --where grammar, binding literals to column types, file skipping and row filtering.
//
//   expression := comparison ( AND comparison )*
//   comparison := column operator literal
//   column     := name made of letters, digits and _ (or `any name` in backquotes)
//   operator   := =  !=  <>  <  <=  >  >=
//   literal    := 'text' | "text" | number | true | false | bare-word (e.g. 2024-01-01T00:00:00Z)
import { Type, type DataType, type Table, type Vector } from 'apache-arrow';
import type { AddFile, FileStats } from './actions.js';
import { timestampMicros } from './arrowColumns.js';
import { PredicateError } from './errors.js';
import { parseTimestampMicros } from './partitions.js';
import type { DeltaStructType, DeltaType } from './schema.js';

export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type Literal = string | number | boolean;

export interface Comparison {
  column: string;
  operator: ComparisonOperator;
  value: Literal;
}

/** A conjunction of comparisons. An empty list matches everything. */
export interface Predicate {
  all: Comparison[];
}

/** Comparable form of a value: numbers, bigints (long, timestamp µs) or strings; dates are epoch days. */
type Comparable = number | bigint | string | boolean;

interface Token {
  kind: 'word' | 'string' | 'operator';
  text: string;
  position: number;
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const char = expression[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    const start = i;
    if (char === "'" || char === '"' || char === '`') {
      const end = expression.indexOf(char, i + 1);
      if (end < 0) throw new PredicateError(`unterminated ${char === '`' ? 'column name' : 'string'} at position ${start + 1} of --where`);
      tokens.push({ kind: char === '`' ? 'word' : 'string', text: expression.slice(i + 1, end), position: start });
      i = end + 1;
      continue;
    }
    const operator = /^(<=|>=|!=|<>|=|<|>)/.exec(expression.slice(i));
    if (operator) {
      tokens.push({ kind: 'operator', text: operator[1] === '<>' ? '!=' : operator[1]!, position: start });
      i += operator[1]!.length;
      continue;
    }
    while (i < expression.length && !/[\s'"`<>=!]/.test(expression[i]!)) i++;
    if (i === start) throw new PredicateError(`unexpected "${char}" at position ${start + 1} of --where`);
    tokens.push({ kind: 'word', text: expression.slice(start, i), position: start });
  }
  return tokens;
}

/** Parses a --where expression. Throws PredicateError (exit 2) naming the position of the problem. */
export function parseWhere(expression: string): Predicate {
  const tokens = tokenize(expression);
  if (tokens.length === 0) throw new PredicateError('empty --where expression');
  const all: Comparison[] = [];
  let i = 0;
  for (;;) {
    const column = tokens[i];
    const operator = tokens[i + 1];
    const value = tokens[i + 2];
    if (column?.kind !== 'word' || /^and$/i.test(column.text))
      throw new PredicateError(`expected a column name at position ${(column?.position ?? expression.length) + 1} of --where`);
    if (operator?.kind !== 'operator') throw new PredicateError(`expected an operator (=, !=, <, <=, >, >=) after "${column.text}"`);
    if (!value || value.kind === 'operator') throw new PredicateError(`expected a value after "${column.text} ${operator.text}"`);
    all.push({ column: column.text, operator: operator.text as ComparisonOperator, value: literalOf(value) });
    i += 3;
    if (i === tokens.length) break;
    const joiner = tokens[i]!;
    if (joiner.kind !== 'word' || !/^and$/i.test(joiner.text)) {
      throw new PredicateError(
        `expected "and" at position ${joiner.position + 1} of --where, found "${joiner.text}"`,
        'only "and" joins comparisons; "or" and parentheses are not supported',
      );
    }
    i++;
  }
  return { all };
}

function literalOf(token: Token): Literal {
  if (token.kind === 'string') return token.text;
  if (/^(true|false)$/i.test(token.text)) return token.text.toLowerCase() === 'true';
  if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.text)) return Number(token.text);
  return token.text;
}

export interface BoundComparison {
  column: string;
  operator: ComparisonOperator;
  deltaType: string;
  value: Comparable;
}

const integerTypes = new Set(['byte', 'short', 'integer']);

/** Converts a literal to the comparable form of a Delta primitive type. Throws PredicateError when it does not fit. */
export function comparableLiteral(column: string, deltaType: string, value: Literal): Comparable {
  const fail = (): never => {
    throw new PredicateError(`--where: ${JSON.stringify(value)} is not a valid ${deltaType} for column ${column}`);
  };
  switch (deltaType) {
    case 'string':
      return String(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'long': {
      const text = String(value);
      return /^[+-]?\d+$/.test(text) ? BigInt(text) : fail();
    }
    case 'float':
    case 'double': {
      const number = Number(value);
      return typeof value !== 'boolean' && Number.isFinite(number) ? number : fail();
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      const text = String(value);
      try {
        return /^\d{4}-\d{2}-\d{2}$/.test(text) ? parseTimestampMicros(`${text}T00:00:00Z`) : parseTimestampMicros(text);
      } catch {
        return fail();
      }
    }
    case 'date': {
      const text = String(value);
      const millis = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN;
      return Number.isNaN(millis) ? fail() : millis / 86_400_000;
    }
    default:
      if (integerTypes.has(deltaType)) return typeof value === 'number' && Number.isInteger(value) ? value : fail();
      throw new PredicateError(`--where: column ${column} has type ${deltaType}, which --where cannot compare`);
  }
}

/** Checks a predicate against a schema and types its literals. */
export function bindPredicate(predicate: Predicate, schema: DeltaStructType): BoundComparison[] {
  return predicate.all.map((comparison) => {
    const field = schema.fields.find((candidate) => candidate.name === comparison.column);
    if (!field)
      throw new PredicateError(
        `--where: no column "${comparison.column}"`,
        `columns: ${schema.fields.map((candidate) => candidate.name).join(', ')}`,
      );
    if (typeof field.type !== 'string')
      throw new PredicateError(
        `--where: column ${comparison.column} is a ${(field.type as Exclude<DeltaType, string>).type}; only simple columns can be compared`,
      );
    return {
      column: comparison.column,
      operator: comparison.operator,
      deltaType: field.type,
      value: comparableLiteral(comparison.column, field.type, comparison.value),
    };
  });
}

function compare(a: Comparable, b: Comparable): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const left = typeof a === 'bigint' ? a : BigInt(Math.trunc(Number(a)));
    const right = typeof b === 'bigint' ? b : BigInt(Math.trunc(Number(b)));
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function holds(operator: ComparisonOperator, actual: Comparable, expected: Comparable): boolean {
  const order = compare(actual, expected);
  switch (operator) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

/** A partition-value string in the comparable form of its column type (null stays null). */
export function partitionComparable(deltaType: string, value: string | null | undefined): Comparable | null {
  if (value === null || value === undefined) return null;
  switch (deltaType) {
    case 'string':
      return value;
    case 'long':
      return BigInt(value);
    case 'boolean':
      return value === 'true';
    case 'timestamp':
    case 'timestamp_ntz':
      return parseTimestampMicros(value);
    case 'date':
      return Date.parse(`${value}T00:00:00Z`) / 86_400_000;
    default:
      return Number(value);
  }
}

/** A stats bound in comparable form; timestamp maxima widen by 999 µs because writers truncate them to milliseconds. */
function statComparable(deltaType: string, value: unknown, bound: 'min' | 'max'): Comparable | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    switch (deltaType) {
      case 'timestamp':
      case 'timestamp_ntz': {
        const micros = parseTimestampMicros(String(value));
        return bound === 'max' ? micros + 999n : micros;
      }
      case 'date':
        return Date.parse(`${String(value)}T00:00:00Z`) / 86_400_000;
      case 'long':
        return typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(String(value));
      case 'string':
        return typeof value === 'string' ? value : undefined;
      case 'boolean':
        return undefined;
      default:
        return typeof value === 'number' ? value : undefined;
    }
  } catch {
    return undefined;
  }
}

/** False only when the file certainly holds no matching row (partition values, then min/max/null counts). */
export function fileMayMatch(
  comparisons: readonly BoundComparison[],
  add: AddFile,
  partitionColumns: readonly string[],
  stats: FileStats | undefined,
): boolean {
  for (const comparison of comparisons) {
    if (partitionColumns.includes(comparison.column)) {
      const value = partitionComparable(comparison.deltaType, add.partitionValues[comparison.column]);
      if (value === null || !holds(comparison.operator, value, comparison.value)) return false;
      continue;
    }
    if (!stats) continue;
    const nulls = stats.nullCount?.[comparison.column];
    if (typeof nulls === 'number' && stats.numRecords > 0 && nulls >= stats.numRecords) return false; // all null: no comparison holds
    const min = statComparable(comparison.deltaType, stats.minValues?.[comparison.column], 'min');
    const max = statComparable(comparison.deltaType, stats.maxValues?.[comparison.column], 'max');
    const value = comparison.value;
    switch (comparison.operator) {
      case '=':
        if ((min !== undefined && compare(value, min) < 0) || (max !== undefined && compare(value, max) > 0)) return false;
        break;
      case '>':
        if (max !== undefined && compare(max, value) <= 0) return false;
        break;
      case '>=':
        if (max !== undefined && compare(max, value) < 0) return false;
        break;
      case '<':
        if (min !== undefined && compare(min, value) >= 0) return false;
        break;
      case '<=':
        if (min !== undefined && compare(min, value) > 0) return false;
        break;
      case '!=':
        if (
          comparison.deltaType !== 'timestamp' &&
          min !== undefined &&
          max !== undefined &&
          compare(min, value) === 0 &&
          compare(max, value) === 0 &&
          nulls === 0
        )
          return false;
        break;
    }
  }
  return true;
}

/** The comparable values of a column in a decoded table (null for null). */
export function comparableColumn(vector: Vector): (Comparable | null)[] {
  const type = vector.type as DataType;
  if (type.typeId === Type.Timestamp) return timestampMicros(vector);
  const out: (Comparable | null)[] = new Array(vector.length);
  let i = 0;
  const isDate = type.typeId === Type.Date;
  for (const value of vector as Iterable<unknown>) {
    out[i++] = value === null || value === undefined ? null : isDate ? Math.round(Number(value) / 86_400_000) : (value as Comparable);
  }
  return out;
}

/** Row positions of `table` where every comparison holds; null never matches. */
export function matchingRows(comparisons: readonly BoundComparison[], table: Table): number[] {
  let rows: number[] = Array.from({ length: table.numRows }, (_, index) => index);
  for (const comparison of comparisons) {
    const values = comparableColumn(table.getChild(comparison.column)!);
    rows = rows.filter((row) => {
      const value = values[row];
      return value !== null && value !== undefined && holds(comparison.operator, value, comparison.value);
    });
  }
  return rows;
}
