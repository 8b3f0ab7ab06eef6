// `logstream replay FILE`: sends an existing access log (JSON lines or Apache/Nginx combined) to Kafka,
// keeping or rewriting timestamps, and reports how many lines parse and why the others do not.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError, LogstreamError } from '../../config/errors.js';
import { createKafkaClient, type OutgoingMessage } from '../../clients/kafka/index.js';
import { decodeLine } from '../../logs/decode.js';
import { createDecoder } from '../../logs/decoder.js';
import { toJsonLine } from '../../generator/index.js';
import { context, isInteractive } from '../context.js';
import { positiveNumber } from '../options.js';

interface ReplayOptions {
  speed?: number;
  rate?: number;
  timestamps: 'keep' | 'now';
  topic?: string;
  dryRun?: boolean;
  json?: boolean;
}

export interface ReplaySummary {
  file: string;
  topic: string;
  lines: number;
  parsed: number;
  sent: number;
  rejected: Record<string, number>;
  /**
   * Parsed lines whose kept event time lies outside the streaming window around the send time
   * (decode.max_event_age_hours, decode.max_event_ahead_minutes): the streamer quarantines them.
   */
  outsideWindow: number;
  /** One example line number per rejection code, so users can look at it. */
  exampleLines: Record<string, number>;
  elapsedMs: number;
}

const MAX_CHUNK = 2000;

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('send an access log file (JSON lines or Apache/Nginx combined) to Kafka; report lines that do not parse, with reasons')
    .argument('<file>', 'access log file')
    .option('--speed <factor>', 'replay at this multiple of the original pace, e.g. 10x', parseSpeed)
    .option('--rate <lines-per-second>', 'replay at a fixed rate instead', positiveNumber('--rate'))
    .option('--timestamps <mode>', 'keep the original timestamps, or rewrite them to the send time (now)', parseTimestampMode, 'keep')
    .option('--topic <name>', 'Kafka topic (default: kafka.topic)')
    .option('--dry-run', 'only parse and report; send nothing')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nWithout --speed or --rate the file is sent as fast as the broker takes it.\nLines that do not parse are not sent; they are counted by reason. Lines are read with the\nmappings of the topic (decode.topics, else decode.use). The streamers quarantine event times\noutside decode.max_event_age_hours / decode.max_event_ahead_minutes of the ingest time; the\nsummary counts the kept timestamps that fall outside (use --timestamps now, or widen the window).',
    )
    .action(async (file: string, options: ReplayOptions) => {
      if (options.speed !== undefined && options.rate !== undefined) throw new UsageError('give --speed or --rate, not both');
      const summary = await replayFile(file, options);
      printSummary(summary, options.json ?? false);
    });
}

async function replayFile(file: string, options: ReplayOptions): Promise<ReplaySummary> {
  const { config } = context();
  const topic = options.topic ?? config.kafka.topic;
  const input = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (error) =>
      reject(new LogstreamError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { exitCode: 2 })),
    );
  });
  await opened;
  const kafka = options.dryRun ? undefined : createKafkaClient(config.kafka);
  // The file is read with the topic's mappings but without the event-time window: old logs are
  // what files hold. The window is the streamer's; lines it will refuse are counted and named.
  const decoder = createDecoder(config.decode, { topic, window: false });
  const streaming = createDecoder(config.decode, { topic, window: true });
  const { window } = streaming;
  let rewrittenChecked = false;
  const summary: ReplaySummary = {
    file,
    topic,
    lines: 0,
    parsed: 0,
    sent: 0,
    rejected: {},
    outsideWindow: 0,
    exampleLines: {},
    elapsedMs: 0,
  };
  const startedMs = Date.now();
  const interactive = isInteractive();
  let lastProgressMs = startedMs;
  try {
    await kafka?.ensureTopic(topic, config.kafka.partitions);
    const producer = await kafka?.createProducer();
    try {
      let chunk: OutgoingMessage[] = [];
      let firstEventMs: number | undefined;
      const flush = async () => {
        if (chunk.length === 0) return;
        await producer?.send(topic, chunk);
        summary.sent += chunk.length;
        chunk = [];
      };
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        summary.lines += 1;
        if (line.trim() === '') continue;
        const nowMs = Date.now();
        const result = decodeLine(line, nowMs, decoder);
        if (!result.ok) {
          const code = result.rejection.code;
          summary.rejected[code] = (summary.rejected[code] ?? 0) + 1;
          summary.exampleLines[code] ??= summary.lines;
          continue;
        }
        summary.parsed += 1;
        firstEventMs ??= result.event.timestampMs;
        const dueMs = dueTime(startedMs, summary.parsed - 1, result.event.timestampMs - firstEventMs, options);
        if (dueMs > nowMs) {
          await flush();
          await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now()));
        }
        const value = options.timestamps === 'now' ? toJsonLine({ ...result.event, timestampMs: Date.now() }) : line;
        if (options.timestamps === 'now' && !rewrittenChecked) {
          // Rewritten lines are in the generator's names: the topic's mappings must read them.
          rewrittenChecked = true;
          const check = decodeLine(value, Date.now(), streaming);
          if (!check.ok) {
            throw new UsageError(
              `--timestamps now writes lines in the generator's field names, which the mappings of ${topic} (${streaming.mappingNames.join(', ')}) do not read: ${check.rejection.message}`,
              `add logstream to decode.topics.${topic}, or replay with --timestamps keep`,
            );
          }
        }
        if (options.timestamps === 'keep') {
          const eventMs = result.event.timestampMs;
          const sendMs = Date.now();
          if (
            (window.maxAgeMs !== null && eventMs < sendMs - window.maxAgeMs) ||
            (window.maxAheadMs !== null && eventMs > sendMs + window.maxAheadMs)
          )
            summary.outsideWindow += 1;
        }
        chunk.push({ key: result.event.clientIp, value });
        if (chunk.length >= MAX_CHUNK) await flush();
        if (interactive && Date.now() - lastProgressMs > 500) {
          lastProgressMs = Date.now();
          const seconds = (lastProgressMs - startedMs) / 1000;
          process.stdout.write(`\rread ${summary.lines} lines, sent ${summary.sent} (${Math.round(summary.sent / seconds)}/s)   `);
        }
      }
      await flush();
    } finally {
      await producer?.close();
    }
  } finally {
    await kafka?.close();
  }
  if (interactive) process.stdout.write('\r');
  summary.elapsedMs = Date.now() - startedMs;
  return summary;
}

/** When a parsed line is due: at a fixed rate by its index, at a speed by its original time offset. */
export function dueTime(startedMs: number, index: number, eventOffsetMs: number, pace: { speed?: number; rate?: number }): number {
  if (pace.rate !== undefined) return startedMs + (index * 1000) / pace.rate;
  if (pace.speed !== undefined) return startedMs + Math.max(0, eventOffsetMs) / pace.speed;
  return startedMs;
}

function printSummary(summary: ReplaySummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const rejectedCount = summary.lines - summary.parsed;
  const lines = [
    `${summary.file}: ${summary.lines} lines, ${summary.parsed} parsed, ${rejectedCount} not parsed`,
    `sent ${summary.sent} to ${summary.topic} in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (summary.outsideWindow > 0) {
    lines.push(
      `${summary.outsideWindow} parsed lines have event times outside the streaming window (decode.max_event_age_hours back, decode.max_event_ahead_minutes ahead of now):`,
      '  the streamer quarantines them as timestamp_out_of_range. Replay with --timestamps now, or for a backfill',
      '  run the streamers with LOGSTREAM_DECODE_MAX_EVENT_AGE_HOURS=0 (no bound).',
    );
  }
  for (const [code, count] of Object.entries(summary.rejected).sort((left, right) => right[1] - left[1])) {
    lines.push(`  ${code.padEnd(24)} ${String(count).padStart(8)}   (first at line ${summary.exampleLines[code]})`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function parseSpeed(text: string): number {
  const value = Number(text.replace(/x$/i, ''));
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`--speed must look like 10x, got "${text}"`);
  return value;
}

function parseTimestampMode(text: string): 'keep' | 'now' {
  if (text !== 'keep' && text !== 'now') throw new InvalidArgumentError(`--timestamps must be keep or now, got "${text}"`);
  return text;
}
