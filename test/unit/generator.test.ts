import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeLine } from '../../logs/decode.js';
import {
  createTrafficGenerator,
  generateTrainingData,
  SCENARIO_NAMES,
  trainingSegments,
  toJsonLine,
  trafficShape,
  writeTrainingData,
  type GeneratedLog,
} from '../../generator/index.js';

const START = Date.UTC(2026, 0, 6, 12);
const take = (count: number, options: Partial<Parameters<typeof createTrafficGenerator>[0]> = {}): GeneratedLog[] => {
  const generator = createTrafficGenerator({ seed: 7, startTimeMs: START, ratePerSecond: 50, ...options });
  return Array.from({ length: count }, () => generator.next());
};
const countBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

describe('traffic generator', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    assert.deepEqual(take(2_000), take(2_000));
    assert.notDeepEqual(take(200), take(200, { seed: 8 }));
  });

  it('emits logs in time order at about the requested rate', () => {
    const logs = take(20_000, { anomalyRate: 0 });
    for (let index = 1; index < logs.length; index += 1) assert.ok(logs[index]!.timestampMs >= logs[index - 1]!.timestampMs);
    const seconds = (logs.at(-1)!.timestampMs - logs[0]!.timestampMs) / 1000;
    const expectedRate = 50 * trafficShape(START);
    assert.ok(Math.abs(logs.length / seconds - expectedRate) / expectedRate < 0.1, `rate ${logs.length / seconds}`);
  });

  it('injects every scenario, in episodes, at about the anomaly rate', () => {
    const logs = take(400_000);
    const labels = countBy(logs, (log) => log.label);
    const anomalous = logs.length - (labels.get('normal') ?? 0);
    assert.ok(anomalous / logs.length > 0.01 && anomalous / logs.length < 0.035, `anomaly fraction ${anomalous / logs.length}`);
    for (const scenario of SCENARIO_NAMES) assert.ok((labels.get(scenario) ?? 0) > 0, `no ${scenario}`);
    const scans = logs.filter((log) => log.label === 'path_scan');
    assert.ok(scans.every((log) => log.status >= 400));
    assert.ok(countBy(scans, (log) => log.clientIp).size < scans.length / 20, 'a scan comes from one address per episode');
    const stuffing = logs.filter((log) => log.label === 'credential_stuffing');
    assert.ok(stuffing.every((log) => log.method === 'POST' && log.path === '/login'));
    assert.ok(logs.filter((log) => log.label === 'oversized_response').every((log) => log.responseBytes > 10_000_000));
  });

  it('injects only the chosen scenarios and none at anomaly rate 0', () => {
    assert.deepEqual([...countBy(take(100_000, { scenarios: ['path_scan'] }), (log) => log.label).keys()].sort(), ['normal', 'path_scan']);
    assert.deepEqual([...countBy(take(20_000, { anomalyRate: 0 }), (log) => log.label).keys()], ['normal']);
  });

  it('models a realistic site: dozens of endpoints, heavy-tailed clients, bots and API clients', () => {
    const logs = take(100_000, { anomalyRate: 0 });
    const templates = countBy(logs, (log) => log.pathTemplate);
    assert.ok(templates.size >= 30 && templates.size <= 120, `${templates.size} templates`);
    const perIp = [...countBy(logs, (log) => log.clientIp).values()].sort((a, b) => b - a);
    const topPercent = perIp.slice(0, Math.ceil(perIp.length / 100)).reduce((sum, count) => sum + count, 0);
    assert.ok(topPercent / logs.length > 0.2, 'the busiest 1% of addresses make over a fifth of the requests');
    assert.ok(logs.some((log) => log.userAgent?.includes('Googlebot')));
    assert.ok(logs.some((log) => log.userAgent?.startsWith('python-requests')));
    const statuses = countBy(logs, (log) => String(log.status));
    assert.ok((statuses.get('200') ?? 0) / logs.length > 0.8);
    assert.ok((statuses.get('404') ?? 0) > 0 && (statuses.get('304') ?? 0) > 0);
  });

  it("keeps a client's own request rate when the site's rate or the hour changes: more traffic means more clients", () => {
    // Requests per minute of the client behind an average request, over one minute of traffic.
    const clientRate = (ratePerSecond: number, hour: number) => {
      const generator = createTrafficGenerator({ seed: 4, startTimeMs: Date.UTC(2026, 0, 15, hour), ratePerSecond, anomalyRate: 0 });
      const logs: GeneratedLog[] = [];
      for (let log = generator.next(); log.timestampMs < Date.UTC(2026, 0, 15, hour, 1); log = generator.next()) logs.push(log);
      const perClient = [...countBy(logs, (log) => log.clientIp).values()];
      return { weighted: perClient.reduce((sum, count) => sum + count * count, 0) / logs.length, clients: perClient.length };
    };
    // A tenth of the rate, at night: about a thirtieth of the traffic.
    const quiet = clientRate(200, 3);
    const busy = clientRate(2_000, 14);
    assert.ok(
      busy.clients > 20 * quiet.clients,
      `${quiet.clients} clients at 200 logs/s at night, ${busy.clients} at 2,000 logs/s in the afternoon`,
    );
    const ratio = busy.weighted / quiet.weighted;
    assert.ok(
      ratio > 0.5 && ratio < 2,
      `per-client requests a minute: ${quiet.weighted.toFixed(1)} at 200 logs/s at night, ${busy.weighted.toFixed(1)} at 2,000 logs/s`,
    );
  });

  it('follows the daily and weekly traffic shape', () => {
    assert.ok(trafficShape(Date.UTC(2026, 0, 6, 14)) > 2 * trafficShape(Date.UTC(2026, 0, 6, 2)));
    assert.ok(trafficShape(Date.UTC(2026, 0, 4, 14)) < trafficShape(Date.UTC(2026, 0, 6, 14)), 'Sunday is quieter than Tuesday');
  });
});

describe('JSON lines and training data', () => {
  it('writes the wire format the decoder reads', () => {
    const log = take(1)[0]!;
    const object = JSON.parse(toJsonLine({ ...log, path: '/search', query: 'q=boots' })) as Record<string, unknown>;
    assert.deepEqual(Object.keys(object), [
      'timestamp',
      'client_ip',
      'method',
      'path',
      'status',
      'response_time_ms',
      'bytes',
      'referrer',
      'user_agent',
      'label',
    ]);
    assert.equal(object.timestamp, new Date(log.timestampMs).toISOString());
    assert.match(object.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(object.path, '/search?q=boots');
    assert.equal(object.label, 'normal');
  });

  it('round-trips through the decoder unchanged, anomalies included', () => {
    const logs = take(20_000, { anomalyRate: 0.2 });
    for (const log of logs) {
      const decoded = decodeLine(toJsonLine(log), Date.now());
      assert.ok(decoded.ok, toJsonLine(log));
      assert.deepEqual(decoded.event, log);
    }
  });

  it('spreads training data over a week in segments long enough to warm the client window, and writes it as JSON lines with progress', async () => {
    const logs = generateTrainingData(168_000, 3);
    const hours = new Set(logs.map((log) => new Date(log.timestampMs).getUTCHours()));
    const days = new Set(logs.map((log) => new Date(log.timestampMs).getUTCDay()));
    assert.equal(days.size, 7);
    assert.ok(hours.size >= 4);
    const segmentStarts = logs.filter((log, index) => index === 0 || log.timestampMs - logs[index - 1]!.timestampMs > 3_600_000);
    assert.equal(segmentStarts.length, 28);
    // 6,000 logs a segment at 50 logs/s: two minutes, two client windows.
    const firstSegment = logs.slice(0, 6_000);
    assert.ok(firstSegment.at(-1)!.timestampMs - firstSegment[0]!.timestampMs >= 110_000, 'a segment spans about two minutes');
    // Fewer logs make fewer segments rather than shorter ones.
    assert.equal(trainingSegments(10_000, 50), 1);
    assert.equal(trainingSegments(60_000, 50), 10);
    assert.deepEqual(generateTrainingData(5_600, 3), generateTrainingData(5_600, 3), 'reproducible from the seed');

    const file = join(mkdtempSync(join(tmpdir(), 'logstream-generator-')), 'train.jsonl');
    const progress: number[] = [];
    await writeTrainingData(file, 5_000, 3, (written) => progress.push(written));
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 5_000);
    assert.equal(progress.at(-1), 5_000);
    assert.equal(lines[0], toJsonLine(generateTrainingData(5_000, 3)[0]!));
  });

  it('`logstream generate --training-data 10000` holds every scenario with at least 30 rows; 50,000 rows more of each', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logstream-training-'));
    for (const [rows, atLeast] of [
      [10_000, 30],
      [50_000, 150],
    ] as const) {
      const file = join(dir, `train-${rows}.jsonl`);
      const cli = spawnSync(process.execPath, ['bin/logstream.js', 'generate', '--training-data', String(rows), '--out', file], {
        cwd: new URL('../..', import.meta.url),
        encoding: 'utf8',
      });
      assert.equal(cli.status, 0, cli.stderr);
      const labels = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { label: string }).label);
      assert.equal(labels.length, rows);
      const counts = countBy(labels, (label) => label);
      for (const scenario of SCENARIO_NAMES) {
        assert.ok((counts.get(scenario) ?? 0) >= atLeast, `${rows} rows: ${scenario} has ${counts.get(scenario) ?? 0} rows`);
      }
      const anomalous = rows - (counts.get('normal') ?? 0);
      assert.ok(anomalous <= rows * 0.025, `${rows} rows: ${anomalous} anomalous rows stay near the 2% anomaly rate`);
    }
    // Other seeds and a low anomaly rate: every scenario is still there, 30 rows each from 10,000 rows on.
    for (const seed of [1, 2, 3]) {
      const counts = countBy(generateTrainingData(10_000, seed, { anomalyRate: 0.005 }), (log) => log.label);
      for (const scenario of SCENARIO_NAMES) assert.ok((counts.get(scenario) ?? 0) >= 30, `seed ${seed}: ${scenario}`);
    }
    const small = countBy(generateTrainingData(2_000, 4), (log) => log.label);
    assert.equal(small.size, SCENARIO_NAMES.length + 1, 'a small file still holds every scenario');
  });
});
