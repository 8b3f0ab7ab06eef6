// Choosing training rows from the lakehouse (pure parts): slice plans, the per-slice sample, and
// reading files in time order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AddFile } from '../../clients/delta/index.js';
import { sortByMinimum } from '../../clients/delta/scan.js';
import type { LogEvent } from '../../logs/record.js';
import { planSlices, SliceSampler, SLICE_MS, timeOrder, WARM_UP_MS } from '../../ml/trainingSlices.js';

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 2, 1);

describe('training slices', () => {
  it('spreads a dozen one-minute slices over a busy window, each after its warm-up', () => {
    const slices = planSlices({ sinceMs: START, nowMs: START + DAY_MS, estimatedRows: 100_000_000, samples: 10_000, seed: 1 });
    assert.equal(slices.length, 12);
    slices.forEach((slice, index) => {
      assert.equal(slice.endMs - slice.startMs, SLICE_MS);
      assert.equal(slice.startMs - slice.warmUpFromMs, WARM_UP_MS);
      // One slice per two-hour stratum.
      assert.ok(slice.startMs >= START + index * 2 * 3_600_000 && slice.endMs <= START + (index + 1) * 2 * 3_600_000 + 1);
    });
    assert.deepEqual(
      planSlices({ sinceMs: START, nowMs: START + DAY_MS, estimatedRows: 100_000_000, samples: 10_000, seed: 1 }),
      slices,
      'seeded',
    );
  });

  it('covers a sparse window completely', () => {
    const slices = planSlices({ sinceMs: START, nowMs: START + 3_600_000, estimatedRows: 500, samples: 10_000, seed: 1 });
    assert.equal(slices.length, 60);
    for (const [index, slice] of slices.entries()) assert.equal(slice.startMs, START + index * SLICE_MS);
  });

  it("samples only the slice's own rows, within the budget, with statistics that include the warm-up", () => {
    const slice = { warmUpFromMs: START, startMs: START + 60_000, endMs: START + 120_000 };
    const sampler = new SliceSampler(slice, 50, 3);
    const event = (timestampMs: number, clientIp: string): LogEvent => ({
      timestampMs,
      clientIp,
      method: 'GET',
      path: '/',
      query: null,
      pathTemplate: '/',
      status: 200,
      responseTimeMs: 5,
      responseBytes: 100,
      referrer: null,
      userAgent: null,
      label: 'normal',
    });
    for (let second = -10; second < 130; second += 1) {
      for (const clientIp of ['a', 'b', 'c']) {
        const timestampMs = START + second * 1000 + clientIp.charCodeAt(0);
        sampler.offer(event(timestampMs, clientIp), () => event(timestampMs, clientIp));
      }
    }
    const rows = sampler.rows();
    assert.equal(rows.length, 50);
    assert.equal(sampler.rowsInSlice, 180);
    assert.ok(rows.every((row) => row.event.timestampMs >= slice.startMs && row.event.timestampMs < slice.endMs));
    assert.ok(rows.every((row, index) => index === 0 || row.event.timestampMs >= rows[index - 1]!.event.timestampMs));
    // A client requesting every second has about a minute of requests behind it at any row of the slice.
    assert.ok(
      rows.every((row) => row.client.requests >= 50),
      `fewest requests in a window: ${Math.min(...rows.map((row) => row.client.requests))}`,
    );
  });

  it('orders rows by event time, then partition and offset, whatever order they were stored in', () => {
    const times = Float64Array.from([30, 10, 20, 10, 10]);
    const partitions = Float64Array.from([0, 1, 0, 0, 1]);
    const offsets = Float64Array.from([7, 4, 6, 9, 3]);
    assert.deepEqual([...timeOrder(times, partitions, offsets)], [3, 4, 1, 2, 0]);
    // The same rows stored in another order come out as the same sequence of rows.
    const shuffled = [2, 4, 0, 3, 1];
    const pick = (values: Float64Array) => Float64Array.from(shuffled.map((index) => values[index]!));
    const order = timeOrder(pick(times), pick(partitions), pick(offsets));
    assert.deepEqual(
      [...order].map((position) => shuffled[position]),
      [3, 4, 1, 2, 0],
    );
  });

  it('reads files in the order of their earliest event, files without statistics first', () => {
    const file = (path: string, min?: string): AddFile =>
      ({
        path,
        partitionValues: {},
        size: 1,
        modificationTime: 0,
        dataChange: true,
        stats: min ? JSON.stringify({ numRecords: 1, minValues: { event_time: min } }) : undefined,
      }) as AddFile;
    const files = [
      file('c', '2026-03-01T10:00:00.000Z'),
      file('a', '2026-03-01T12:00:00.000Z'),
      file('b'),
      file('d', '2026-03-01T09:30:00.000Z'),
    ];
    assert.deepEqual(
      sortByMinimum(files, 'event_time').map((add) => add.path),
      ['b', 'd', 'c', 'a'],
    );
  });
});
