// The Delta writer's per-commit pure steps on the shapes that take their fast paths: partition
// groups found by comparing raw values with the previous row, and 64-bit min/max read as 32-bit
// halves. Each is checked against a plain reference on data with nulls, negative and wide values,
// several chunks and interleaved partitions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Int32,
  Int64,
  Table,
  TimeUnit,
  Timestamp,
  Uint64,
  Utf8,
  makeData,
  makeVector,
  tableFromArrays,
  vectorFromArray,
} from 'apache-arrow';
import { serializePartitionValue } from '../../clients/delta/partitions.js';
import { arrowSchemaToDelta } from '../../clients/delta/schema.js';
import { computeStats, timestampStatMax, timestampStatMin } from '../../clients/delta/stats.js';
import { splitByPartition } from '../../clients/delta/writer.js';

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function partitionedTable(rows: number, seed: number): Table {
  const next = random(seed);
  const dates: (string | null)[] = [];
  const hours: number[] = [];
  const buckets: bigint[] = [];
  const sites: (string | null)[] = [];
  let date = 0;
  let hour = 0;
  for (let row = 0; row < rows; row++) {
    // Runs of equal values, with jumps back and forth, as batches spanning an hour boundary have.
    if (next() < 0.1) date = Math.floor(next() * 3);
    if (next() < 0.1) hour = Math.floor(next() * 3);
    dates.push(date === 2 ? null : `2026-12-0${date + 1}`);
    hours.push(hour);
    // Values equal in one 32-bit half and not the other.
    buckets.push([7n, 8n, 7n + 4_294_967_296n, -5_000_000_000n][Math.floor(next() * 4)]!);
    // Equal lengths with other bytes, prefixes of each other, and the empty string beside null.
    sites.push(['eu', 'us', 'us-east', 'u', '', null][Math.floor(next() * 6)] ?? null);
  }
  return new Table({
    date: vectorFromArray(dates, new Utf8()),
    hour: vectorFromArray(hours, new Int32()),
    bucket: vectorFromArray(buckets, new Int64()),
    site: vectorFromArray(sites, new Utf8()),
    row: vectorFromArray(
      Array.from({ length: rows }, (_, row) => row),
      new Int32(),
    ),
  });
}

/** Row numbers per partition key, by serialising every row's values. */
function referenceGroups(table: Table, columns: readonly string[], types: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (let row = 0; row < table.numRows; row++) {
    const key = JSON.stringify(columns.map((column, index) => serializePartitionValue(table.getChild(column)!.get(row), types[index]!)));
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

function splitGroups(table: Table, columns: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const group of splitByPartition(table, arrowSchemaToDelta(table.schema), columns)) {
    assert.ok(
      columns.every((column) => !group.table.schema.fields.some((field) => field.name === column)),
      'partition columns stay out of the files',
    );
    const key = JSON.stringify(columns.map((column) => group.partitionValues[column]));
    groups.set(key, [...group.table.getChild('row')!].map(Number));
  }
  return groups;
}

describe('splitting a batch by partition values', () => {
  it('puts every row in the group of its values, interleaved runs and nulls included', () => {
    const table = partitionedTable(5_000, 1);
    const columns = ['date', 'hour', 'bucket', 'site'];
    const expected = referenceGroups(table, columns, ['string', 'integer', 'long', 'string']);
    assert.ok(expected.size >= 150, `the data has several groups (${expected.size})`);
    assert.deepEqual(splitGroups(table, columns), expected);
  });

  it('compares values across the chunks of a column', () => {
    const table = partitionedTable(700, 2).concat(partitionedTable(900, 3), partitionedTable(1, 4));
    assert.equal(table.getChild('date')!.data.length, 3);
    // Row numbers repeat across the parts: identify rows by position instead.
    const positioned = table.assign(
      new Table({
        row: vectorFromArray(
          Array.from({ length: table.numRows }, (_, row) => row),
          new Int32(),
        ),
      }),
    );
    const columns = ['date', 'hour'];
    assert.deepEqual(splitGroups(positioned, columns), referenceGroups(positioned, columns, ['string', 'integer']));
  });

  it('keeps one group as the table itself', () => {
    const table = tableFromArrays({ date: ['2026-12-01', '2026-12-01'], row: Int32Array.from([0, 1]) });
    const groups = splitByPartition(table, arrowSchemaToDelta(table.schema), ['date']);
    assert.deepEqual(
      groups.map((group) => [group.partitionValues, group.table.numRows]),
      [[{ date: '2026-12-01' }, 2]],
    );
  });
});

describe('64-bit statistics', () => {
  const extremes = (values: readonly (bigint | null)[]) => {
    const present = values.filter((value): value is bigint => value !== null);
    const sorted = present.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return [sorted[0], sorted.at(-1)];
  };

  it('finds min and max of int64 values across word boundaries, signs, nulls and chunks', () => {
    const next = random(5);
    const values = Array.from({ length: 3_000 }, (): bigint | null => {
      if (next() < 0.05) return null;
      const high = BigInt(Math.floor(next() * 2 ** 20) - 2 ** 19);
      return high * 4_294_967_296n + BigInt(Math.floor(next() * 2 ** 32));
    });
    const [min, max] = extremes(values);
    const part = (from: number, to: number) => new Table({ v: vectorFromArray(values.slice(from, to), new Int64()) });
    const table = part(0, 1_000).concat(part(1_000, 3_000));
    const stats = computeStats(table);
    // Bounds beyond 2^53 are left out, as JSON numbers would round them.
    const expect = (value: bigint) =>
      value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : undefined;
    assert.equal(stats.minValues!.v, expect(min!));
    assert.equal(stats.maxValues!.v, expect(max!));
    assert.equal(stats.nullCount!.v, values.filter((value) => value === null).length);

    const small = [5n, -3n, 4_294_967_296n, -4_294_967_297n, null, 4_294_967_295n];
    const smallStats = computeStats(new Table({ v: vectorFromArray(small, new Int64()) }));
    assert.deepEqual([smallStats.minValues!.v, smallStats.maxValues!.v], [-4_294_967_297, 4_294_967_296]);
  });

  it('reads uint64 as unsigned, and gives no bounds past 2^53', () => {
    const column = (values: bigint[]) => {
      const data = BigUint64Array.from(values);
      return new Table({ v: makeVector(makeData({ type: new Uint64(), length: data.length, nullCount: 0, data })) });
    };
    const safe = computeStats(column([3n, 2n ** 40n + 5n, 1n]));
    assert.deepEqual([safe.minValues!.v, safe.maxValues!.v], [1, 2 ** 40 + 5]);
    // Read as signed, 2^63 + 5 would be the minimum; either way no bound is written rather than a rounded one.
    const wide = computeStats(column([3n, 2n ** 63n + 5n, 1n]));
    assert.deepEqual([wide.minValues!.v, wide.maxValues!.v, wide.nullCount!.v], [undefined, undefined, 0]);
  });

  it('converts timestamp bounds from the column unit', () => {
    const millis = [1_764_600_000_123n, -86_400_001n, null, 1_764_600_000_999n];
    const vector = makeVector(
      makeData({
        type: new Timestamp(TimeUnit.MILLISECOND, 'UTC'),
        length: millis.length,
        nullCount: 1,
        nullBitmap: Uint8Array.from([0b1011]),
        data: BigInt64Array.from(millis.map((value) => value ?? 0n)),
      }),
    );
    const stats = computeStats(new Table({ t: vector }));
    assert.equal(stats.minValues!.t, timestampStatMin(-86_400_001n * 1000n));
    assert.equal(stats.maxValues!.t, timestampStatMax(1_764_600_000_999n * 1000n));
    assert.equal(stats.nullCount!.t, 1);

    const nanos = BigInt64Array.from([1_764_600_000_123_456_789n, 1_764_600_000_000_000_001n]);
    const nanoVector = makeVector(makeData({ type: new Timestamp(TimeUnit.NANOSECOND, 'UTC'), length: 2, nullCount: 0, data: nanos }));
    const nanoStats = computeStats(new Table({ t: nanoVector }));
    assert.equal(nanoStats.minValues!.t, timestampStatMin(1_764_600_000_000_000n));
    assert.equal(nanoStats.maxValues!.t, timestampStatMax(1_764_600_000_123_456n));
  });
});
