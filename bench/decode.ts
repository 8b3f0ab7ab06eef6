// Decoding benchmark: messages per second through decodeMessage (the streamer's hot path) for
// each kind of line the pipeline reads, 100,000 messages each (BENCH_DECODE_MESSAGES).
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createTrafficGenerator, toJsonLine } from '../generator/index.js';
import { decodeMessage, type Decoder } from '../logs/decode.js';
import { createDecoder, DEFAULT_DECODE_SETTINGS } from '../logs/decoder.js';
import { APACHE_LOG } from '../test/helpers/fixtures.js';

const settings = { messages: Number(process.env.BENCH_DECODE_MESSAGES ?? 100_000), repeats: 5 };
const nowMs = Date.now();

const generator = createTrafficGenerator({ seed: 3, startTimeMs: nowMs - 3_600_000, ratePerSecond: 200, anomalyRate: 0.02 });
const events = Array.from({ length: settings.messages }, () => generator.next());
const apache = readFileSync(APACHE_LOG, 'utf8')
  .split('\n')
  .filter((line) => line.length > 0);

const withMappings = (...mappings: string[]) => createDecoder(DEFAULT_DECODE_SETTINGS, { mappings, window: true });
/** The 2015 sample is read without the event-time window, as a backfill would be. */
const noWindow = createDecoder(DEFAULT_DECODE_SETTINGS, { window: false });
const defaults = withMappings('logstream', 'ecs', 'combined');
const iso = (ms: number) => new Date(ms).toISOString();

const kinds: Record<string, { lines: string[]; decoder: Decoder }> = {
  'generator JSON': { decoder: defaults, lines: events.map((event) => toJsonLine(event)) },
  'ECS JSON (nested)': {
    decoder: defaults,
    lines: events.map((event) =>
      JSON.stringify({
        '@timestamp': new Date(event.timestampMs).toISOString(),
        source: { ip: event.clientIp },
        http: { request: { method: event.method }, response: { status_code: event.status, body: { bytes: event.responseBytes } } },
        url: { path: event.path, query: event.query ?? undefined },
        user_agent: { original: event.userAgent },
        event: { duration: (event.responseTimeMs ?? 0) * 1e6 },
      }),
    ),
  },
  'Apache combined': { decoder: noWindow, lines: Array.from({ length: settings.messages }, (_, index) => apache[index % apache.length]!) },
  'combined + rt= (now)': {
    decoder: defaults,
    lines: events.map(
      (event) =>
        `${event.clientIp} - - [${combinedDate(event.timestampMs)}] "${event.method} ${event.path} HTTP/1.1" ${event.status} ${event.responseBytes} "-" "${event.userAgent ?? '-'}" rt=${((event.responseTimeMs ?? 0) / 1000).toFixed(3)}`,
    ),
  },
  'nginx_json (strings)': {
    decoder: withMappings('nginx_json'),
    lines: events.map((event) =>
      JSON.stringify({
        time_iso8601: iso(event.timestampMs).replace('.000Z', '+00:00'),
        remote_addr: event.clientIp,
        request_method: event.method,
        request_uri: event.query ? `${event.path}?${event.query}` : event.path,
        status: String(event.status),
        body_bytes_sent: String(event.responseBytes),
        request_time: ((event.responseTimeMs ?? 0) / 1000).toFixed(3),
        http_referer: event.referrer ?? '',
        http_user_agent: event.userAgent ?? '',
      }),
    ),
  },
  python_pipeline: {
    decoder: withMappings('logstream', 'python_pipeline'),
    lines: events.map((event) =>
      JSON.stringify({
        timestamp: iso(event.timestampMs).slice(0, -1),
        ip: event.clientIp,
        method: event.method,
        endpoint: event.path,
        status_code: event.status,
        response_time: event.responseTimeMs,
        bytes: event.responseBytes,
        user_agent: event.userAgent,
      }),
    ),
  },
};

function combinedDate(ms: number): string {
  const [weekday, day, month, year, time] = new Date(ms).toUTCString().split(' ');
  void weekday;
  return `${day}/${month}/${year}:${time} +0000`;
}

const rows: Array<{ kind: string; messagesPerSecond: number; rejected: number }> = [];
for (const [kind, { lines, decoder }] of Object.entries(kinds)) {
  const buffers = lines.map((line) => Buffer.from(line));
  let best = Number.POSITIVE_INFINITY;
  let rejected = 0;
  for (let repeat = 0; repeat < settings.repeats; repeat += 1) {
    rejected = 0;
    const startedMs = performance.now();
    for (const buffer of buffers) if (!decodeMessage(buffer, { maxMessageBytes: 64 * 1024, nowMs, decoder }).ok) rejected += 1;
    best = Math.min(best, performance.now() - startedMs);
  }
  rows.push({ kind, messagesPerSecond: Math.round((buffers.length * 1000) / best), rejected });
}

console.log(`decode: ${settings.messages.toLocaleString('en-US')} messages per kind, best of ${settings.repeats}`);
console.log(`${'kind'.padEnd(24)} ${'msgs/s'.padStart(12)} ${'rejected'.padStart(9)}`);
for (const row of rows) {
  console.log(`${row.kind.padEnd(24)} ${row.messagesPerSecond.toLocaleString('en-US').padStart(12)} ${String(row.rejected).padStart(9)}`);
}
console.log(
  JSON.stringify({
    bench: 'decode',
    results: rows,
    machine: { cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30) },
    settings,
  }),
);
