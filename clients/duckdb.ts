// DuckDB, the embedded SQL engine `logstream analytics` runs its queries on. This module is the
// only place that talks to it.
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { LogstreamError } from '../config/errors.js';

export type Row = Record<string, unknown>;

export interface SqlSession {
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  close(): void;
}

export async function openSession(): Promise<SqlSession> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    async query(sql, params = []) {
      try {
        const reader = await connection.runAndReadAll(sql, params as never);
        const converters = reader.columnTypes().map(converterFor);
        const names = reader.columnNames();
        return reader
          .getRowsJson()
          .map((values) => Object.fromEntries(names.map((name, index) => [name, converters[index]!(values[index])])));
      } catch (error) {
        throw new LogstreamError(`query failed: ${(error as Error).message}`, { cause: error });
      }
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

const NUMERIC = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL]);
const TIMESTAMPS = new Set([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_NS,
]);

/** JSON-friendly values: counts and decimals as numbers, timestamps as ISO-8601 UTC strings. */
function converterFor(type: DuckDBType): (value: unknown) => unknown {
  if (NUMERIC.has(type.typeId)) return (value) => (value === null ? null : Number(value));
  if (TIMESTAMPS.has(type.typeId)) {
    return (value) => {
      if (value === null) return null;
      const text = String(value)
        .replace(' ', 'T')
        .replace(/([+-]\d\d)$/, '$1:00');
      const parsed = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
      return Number.isNaN(parsed) ? String(value) : new Date(parsed).toISOString();
    };
  }
  return (value) => value;
}

/** Quotes a string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
