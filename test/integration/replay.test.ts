// `logstream replay`: the 2015 Apache sample goes through the whole pipeline; lines that do not
// parse are reported with their reason; --timestamps now rewrites event times. Kept 2015 times lie
// outside the streamers' event-time window: replay says so, and a backfill streamer widens it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { PipelineConfig } from '../../config/schema.js';
import { requireService, waitFor } from '../helpers/stack.js';
import { startStreamer, streamerFixture, tableRowCount, tableRows, type StreamerFixture } from './streamer-support.js';
import { APACHE_LOG } from '../helpers/fixtures.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const sample = APACHE_LOG;
let config: PipelineConfig;
const fixtures: StreamerFixture[] = [];

before(async () => {
  config = await requireService('kafka');
});

after(async () => {
  for (const fixture of fixtures) {
    await fixture.kafka.deleteTopic(fixture.topic).catch(() => undefined);
    await fixture.kafka.close();
  }
});

function replay(args: string[]) {
  return spawnSync(process.execPath, ['bin/logstream.js', 'replay', ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, LOGSTREAM_KAFKA_SERVERS: config.kafka.servers },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test('the 2015 Apache combined sample: 9,999 lines parse, one cut-off line is reported, all parsed rows reach Delta', async () => {
  const fixture = await streamerFixture(config, 'replay-apache');
  fixtures.push(fixture);
  const result = replay([sample, '--topic', fixture.topic, '--json']);
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as {
    lines: number;
    parsed: number;
    sent: number;
    rejected: Record<string, number>;
    outsideWindow: number;
    exampleLines: Record<string, number>;
  };
  assert.equal(summary.lines, 10_000);
  assert.equal(summary.parsed, 9_999);
  assert.equal(summary.sent, 9_999);
  assert.deepEqual(summary.rejected, { unparseable: 1 });
  assert.equal(typeof summary.exampleLines.unparseable, 'number');
  assert.equal(summary.outsideWindow, 9_999, 'every kept 2015 time is outside the default streaming window');

  // A backfill: the streamer runs with no bound on the event-time age.
  const { streamer, done } = await startStreamer(fixture, { ...config, decode: { ...config.decode, max_event_age_hours: 0 } });
  try {
    await waitFor('9,999 rows in the logs table', async () => (await tableRowCount(fixture.deltaRoot, 'logs')) === 9_999, {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
  } finally {
    await streamer.stop();
    await done;
  }
  const rows = await tableRows(fixture.deltaRoot, 'logs');
  const first = rows.find(
    (row) => row.path === '/presentations/logstash-monitorama-2013/images/kibana-search.png' && row.client_ip === '83.149.9.216',
  );
  assert.ok(first, 'the first line of the file is in the table');
  assert.equal(first.status, 200);
  assert.equal(first.date, '2015-05-17');
  assert.equal(Number(first.event_time), Date.UTC(2015, 4, 17, 10, 5, 3));
  assert.equal(await tableRowCount(fixture.deltaRoot, 'quarantine'), 0);
});

test('replay --timestamps now --rate rewrites event times to the send time; the human summary lists reasons', async () => {
  const fixture = await streamerFixture(config, 'replay-now');
  fixtures.push(fixture);
  const file = join(await mkdtemp(join(tmpdir(), 'replay-test-')), 'mixed.log');
  await writeFile(
    file,
    [
      '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8"',
      '{"timestamp":"2015-05-17T10:05:04Z","client_ip":"10.0.0.2","method":"GET","path":"/b","status":404,"bytes":5}',
      'garbage',
      '10.0.0.3 - - [17/May/2015:10:05:05 +0000] "GET /c HTTP/1.1" 999 10 "-" "-"',
      '',
    ].join('\n'),
  );
  const startedMs = Date.now();
  const result = replay([file, '--topic', fixture.topic, '--rate', '20', '--timestamps', 'now']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /4 lines, 2 parsed, 2 not parsed/);
  assert.match(result.stdout, /unparseable\s+1/);
  assert.match(result.stdout, /status_out_of_range\s+1/);

  const { streamer, done } = await startStreamer(fixture, config);
  try {
    await waitFor('2 rows', async () => (await tableRowCount(fixture.deltaRoot, 'logs')) === 2, { timeoutMs: 60_000, intervalMs: 300 });
  } finally {
    await streamer.stop();
    await done;
  }
  const rows = await tableRows(fixture.deltaRoot, 'logs');
  for (const row of rows) assert.ok(Number(row.event_time) >= startedMs - 1000, `${row.path} carries the send time`);
});

test('replay --timestamps now refuses a topic whose mappings cannot read the rewritten lines, naming the fix', async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'replay-test-')), 'one.log');
  await writeFile(file, '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8"\n');
  const result = spawnSync(
    process.execPath,
    ['bin/logstream.js', 'replay', file, '--topic', 'nginx-only', '--timestamps', 'now', '--dry-run'],
    {
      cwd: repositoryRoot,
      env: { ...process.env, LOGSTREAM_DECODE_TOPICS: JSON.stringify({ 'nginx-only': ['nginx_json', 'combined'] }) },
      encoding: 'utf8',
    },
  );
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /the mappings of nginx-only \(nginx_json, combined\) do not read: missing timestamp/);
  assert.match(result.stderr, /add logstream to decode\.topics\.nginx-only/);
});
