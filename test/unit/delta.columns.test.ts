// Schema conversion, statistics, partition paths and predicates of the Delta engine (pure parts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Field, Int32, Schema, TimeUnit, Timestamp, Utf8, vectorFromArray, Uint32 } from 'apache-arrow';
import type { AddFile } from '../../clients/delta/actions.js';
import { tableFromColumns, takeTable, timestampVectorFromMicros } from '../../clients/delta/arrowColumns.js';
import {
  escapePartitionValue,
  formatTimestampMicros,
  parseTimestampMicros,
  partitionFolder,
  serializePartitionValue,
  storagePathToUri,
  uriToStoragePath,
} from '../../clients/delta/partitions.js';
import { bindPredicate, fileMayMatch, matchingRows, parseWhere } from '../../clients/delta/predicate.js';
import { arrowSchemaToDelta, deltaSchemaToArrow, parseDeltaSchema } from '../../clients/delta/schema.js';
import { computeStats, timestampStatMax, timestampStatMin } from '../../clients/delta/stats.js';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { logSchema, makeLogTable } from '../helpers/deltalake.js';

describe('schema conversion', () => {
  it('maps the log schema to Delta types and back', () => {
    const delta = arrowSchemaToDelta(logSchema);
    assert.deepEqual(
      delta.fields.map((field) => [field.name, field.type, field.nullable]),
      [
        ['timestamp', 'timestamp', false],
        ['date', 'string', false],
        ['hour', 'integer', false],
        ['client_ip', 'string', true],
        ['method', 'string', true],
        ['endpoint', 'string', true],
        ['status', 'integer', true],
        ['response_bytes', 'long', true],
        ['response_time_ms', 'double', true],
        ['user_agent', 'string', true],
        ['kafka_offset', 'long', false],
      ],
    );
    const back = deltaSchemaToArrow(delta);
    assert.equal(String(back.fields[0]!.type), 'Timestamp<MICROSECOND, UTC>');
    assert.deepEqual(arrowSchemaToDelta(back), delta);
  });

  it('converts nested Delta types (struct, array, map, decimal)', () => {
    const schema = parseDeltaSchema(
      JSON.stringify({
        type: 'struct',
        fields: [
          {
            name: 's',
            type: { type: 'struct', fields: [{ name: 'ts', type: 'timestamp', nullable: true, metadata: {} }] },
            nullable: true,
            metadata: {},
          },
          { name: 'a', type: { type: 'array', elementType: 'string', containsNull: true }, nullable: true, metadata: {} },
          { name: 'm', type: { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }, nullable: true, metadata: {} },
          { name: 'd', type: 'decimal(10,2)', nullable: true, metadata: {} },
        ],
      }),
    );
    const arrow = deltaSchemaToArrow(schema);
    assert.deepEqual(arrowSchemaToDelta(arrow), schema);
  });

  it('refuses Arrow types Delta cannot store, naming the column', () => {
    assert.throws(() => arrowSchemaToDelta(new Schema([new Field('n', new Uint32())])), /column n: unsigned/);
    assert.throws(() => arrowSchemaToDelta(new Schema([new Field('t', new Timestamp(TimeUnit.MICROSECOND))])), /column t: .*timestampNtz/);
  });
});

describe('statistics', () => {
  it('counts rows and nulls and keeps min/max per column', () => {
    const stats = computeStats(makeLogTable(100));
    assert.equal(stats.numRecords, 100);
    assert.equal(stats.nullCount!.client_ip, 6); // offsets 0, 17, …, 85
    assert.equal(stats.minValues!.status, 200);
    assert.equal(stats.maxValues!.status, 500);
    assert.equal(stats.minValues!.timestamp, '2025-01-01T00:00:00.000Z');
    assert.equal(stats.minValues!.kafka_offset, 0);
    assert.equal(stats.maxValues!.kafka_offset, 99);
  });

  it('rounds timestamp bounds outward to milliseconds so skipping stays correct', () => {
    assert.equal(timestampStatMin(1_000_999n), '1970-01-01T00:00:01.000Z');
    assert.equal(timestampStatMax(1_000_001n), '1970-01-01T00:00:01.001Z');
    assert.equal(timestampStatMax(1_000_000n), '1970-01-01T00:00:01.000Z');
    assert.equal(timestampStatMin(-1n), '1969-12-31T23:59:59.999Z');
  });

  it('truncates long string minima and drops long string maxima', () => {
    const long = 'x'.repeat(40);
    const table = tableFromColumns(new Schema([new Field('s', new Utf8())]), { s: vectorFromArray([long, 'a'], new Utf8()) }, 2);
    const stats = computeStats(table);
    assert.equal(stats.minValues!.s, 'a');
    assert.equal(stats.maxValues!.s, undefined);
  });
});

describe('partition paths', () => {
  it('escapes values like Spark and encodes the add path as a URI', () => {
    assert.equal(escapePartitionValue('a/b=c%d:e'), 'a%2Fb%3Dc%25d%3Ae');
    assert.equal(partitionFolder(['date', 'hour'], { date: '2024-01-01', hour: '7' }), 'date=2024-01-01/hour=7');
    assert.equal(partitionFolder(['k'], { k: null }), 'k=__HIVE_DEFAULT_PARTITION__');
    assert.equal(partitionFolder(['k'], { k: '' }), 'k=__HIVE_DEFAULT_PARTITION__');
    const folder = partitionFolder(['k'], { k: 'a b%' });
    assert.equal(folder, 'k=a b%25');
    assert.equal(storagePathToUri(`${folder}/f.parquet`), 'k=a%20b%2525/f.parquet');
    assert.equal(uriToStoragePath('k=a%20b%2525/f.parquet'), 'k=a b%25/f.parquet');
  });

  it('serialises partition values as Delta strings', () => {
    assert.equal(serializePartitionValue(7, 'integer'), '7');
    assert.equal(serializePartitionValue(null, 'string'), null);
    assert.equal(serializePartitionValue(86_400_000, 'date'), '1970-01-02');
    assert.equal(serializePartitionValue(1_000_000n, 'timestamp'), '1970-01-01 00:00:01.000000');
  });

  it('formats and parses microsecond timestamps', () => {
    assert.equal(formatTimestampMicros(1_735_689_600_123_456n), '2025-01-01T00:00:00.123456Z');
    assert.equal(parseTimestampMicros('2025-01-01T00:00:00.123456Z'), 1_735_689_600_123_456n);
    assert.equal(parseTimestampMicros('2025-01-01 01:00:00+01:00'), 1_735_689_600_000_000n);
  });
});

describe('where expressions', () => {
  it('parses comparisons joined by and', () => {
    assert.deepEqual(parseWhere('status = 500 and timestamp >= \'2025-01-01T00:00:00Z\' AND endpoint != "/cart"'), {
      all: [
        { column: 'status', operator: '=', value: 500 },
        { column: 'timestamp', operator: '>=', value: '2025-01-01T00:00:00Z' },
        { column: 'endpoint', operator: '!=', value: '/cart' },
      ],
    });
    assert.deepEqual(parseWhere('date=2025-01-01'), { all: [{ column: 'date', operator: '=', value: '2025-01-01' }] });
  });

  it('rejects bad expressions with a usage error (exit 2)', () => {
    for (const bad of ['', 'status', 'status =', 'status = 1 or status = 2', "endpoint = 'open", '= 5', 'status = 1 and']) {
      assert.throws(
        () => parseWhere(bad),
        (error: Error & { exitCode?: number }) => error.exitCode === 2,
        bad,
      );
    }
    const schema = arrowSchemaToDelta(logSchema);
    assert.throws(() => bindPredicate(parseWhere('nope = 1'), schema), /no column "nope"/);
    assert.throws(() => bindPredicate(parseWhere('status = abc'), schema), /not a valid integer/);
    assert.throws(() => bindPredicate(parseWhere('timestamp > yesterday'), schema), /not a valid timestamp/);
  });
});

describe('file skipping and row filtering', () => {
  const schema = arrowSchemaToDelta(logSchema);
  const file = (stats: object, partitionValues = { date: '2025-01-01', hour: '0' }): AddFile => ({
    path: 'f',
    partitionValues,
    size: 1,
    modificationTime: 0,
    dataChange: true,
    stats: JSON.stringify(stats),
  });
  const stats = {
    numRecords: 10,
    minValues: { status: 200, endpoint: '/a', timestamp: '2025-01-01T00:00:00.000Z' },
    maxValues: { status: 404, endpoint: '/m', timestamp: '2025-01-01T00:30:00.000Z' },
    nullCount: { status: 0, endpoint: 0, timestamp: 0 },
  };
  const may = (where: string, add = file(stats)) =>
    fileMayMatch(bindPredicate(parseWhere(where), schema), add, ['date', 'hour'], JSON.parse(add.stats!));

  it('prunes partitions', () => {
    assert.equal(may("date = '2025-01-01' and hour = 0"), true);
    assert.equal(may('hour >= 1'), false);
    assert.equal(may("date < '2025-01-01'"), false);
  });

  it('skips by min/max on equality and ranges', () => {
    assert.equal(may('status = 500'), false);
    assert.equal(may('status = 301'), true);
    assert.equal(may("endpoint = '/z'"), false);
    assert.equal(may("timestamp >= '2025-01-01T01:00:00Z'"), false);
    assert.equal(may("timestamp < '2025-01-01T00:00:00Z'"), false);
    assert.equal(may("timestamp <= '2025-01-01T00:00:00Z'"), true);
  });

  it('treats truncated timestamp maxima conservatively (+999 µs)', () => {
    assert.equal(may("timestamp > '2025-01-01T00:30:00.000500Z'"), true);
    assert.equal(may("timestamp > '2025-01-01T00:30:00.001Z'"), false);
  });

  it('keeps files without stats and skips all-null columns', () => {
    const noStats: AddFile = {
      path: 'f',
      partitionValues: { date: '2025-01-01', hour: '0' },
      size: 1,
      modificationTime: 0,
      dataChange: true,
    };
    assert.equal(fileMayMatch(bindPredicate(parseWhere('status = 1'), schema), noStats, ['date', 'hour'], undefined), true);
    assert.equal(may('status = 200', file({ numRecords: 3, nullCount: { status: 3 } })), false);
  });

  it('filters rows exactly, nulls never matching', () => {
    const table = makeLogTable(200);
    const comparisons = bindPredicate(parseWhere("status = 500 and timestamp >= '2025-01-01T00:01:00Z'"), schema);
    const rows = tableToJsonRows(takeTable(table, matchingRows(comparisons, table)));
    assert.ok(rows.length > 0);
    assert.ok(rows.every((row) => row.status === 500 && String(row.timestamp) >= '2025-01-01T00:01:00'));
    const all = tableToJsonRows(table).filter((row) => row.status === 500 && String(row.timestamp) >= '2025-01-01T00:01:00.000000Z');
    assert.deepEqual(rows, all);
    const noNulls = matchingRows(bindPredicate(parseWhere("client_ip != 'x'"), schema), table);
    assert.equal(noNulls.length, 200 - 12);
  });

  it('keeps microseconds when taking rows and prints them as ISO-8601 UTC', () => {
    const type = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    const table = tableFromColumns(
      new Schema([new Field('t', type), new Field('n', new Int32())]),
      { t: timestampVectorFromMicros([1n, 2_000_001n, null], type), n: vectorFromArray([1, 2, 3], new Int32()) },
      3,
    );
    assert.deepEqual(tableToJsonRows(takeTable(table, [2, 1])), [
      { t: null, n: 3 },
      { t: '1970-01-01T00:00:02.000001Z', n: 2 },
    ]);
  });
});

describe('statistics columns', () => {
  it('follow delta.dataSkippingStatsColumns, else the first delta.dataSkippingNumIndexedCols columns', async () => {
    const { statsColumns, computeStats } = await import('../../clients/delta/stats.js');
    const columns = ['a', 'b', 'c'];
    assert.deepEqual([...statsColumns(columns, { 'delta.dataSkippingStatsColumns': 'c, `a`' })], ['c', 'a']);
    assert.deepEqual([...statsColumns(columns, { 'delta.dataSkippingNumIndexedCols': '2' })], ['a', 'b']);
    assert.deepEqual([...statsColumns(columns, { 'delta.dataSkippingNumIndexedCols': '-1' })], columns);
    assert.deepEqual([...statsColumns(columns)], columns);
    const { tableFromArrays } = await import('apache-arrow');
    const stats = computeStats(tableFromArrays({ a: Int32Array.from([3, 1]), b: ['x', 'y'] }), new Set(['a']));
    assert.deepEqual(stats, { numRecords: 2, minValues: { a: 1 }, maxValues: { a: 3 }, nullCount: { a: 0 } });
  });
});
