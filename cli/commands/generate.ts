// `logstream generate`: realistic web-access logs to Kafka at a steady rate, keyed by client IP,
// or (--training-data) a labeled JSON-lines file for model training.
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { createKafkaClient, type OutgoingMessage } from '../../clients/kafka/index.js';
import { createTrafficGenerator, DEFAULT_ANOMALY_RATE, toJsonLine, writeTrainingData } from '../../generator/index.js';
import { context, isInteractive } from '../context.js';
import { pacedSend, type SendProgress } from '../../clients/kafka/pacedSend.js';
import { nonNegativeNumber, positiveInteger, positiveNumber } from '../options.js';

interface GenerateOptions {
  rate: number;
  duration?: number;
  count?: number;
  anomalyRate: number;
  seed?: number;
  topic?: string;
  trainingData?: number;
  out?: string;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('produce realistic web-access logs (JSON lines keyed by client IP) to Kafka, or write a labeled training file')
    .option('--rate <logs-per-second>', 'logs per second', positiveNumber('--rate'), 50)
    .option('--duration <seconds>', 'stop after this many seconds (default 60 unless --count is given)', positiveNumber('--duration'))
    .option('--count <logs>', 'stop after this many logs instead of after a duration', positiveInteger('--count'))
    .option(
      '--anomaly-rate <fraction>',
      'fraction of logs from labeled anomaly scenarios',
      nonNegativeNumber('--anomaly-rate'),
      DEFAULT_ANOMALY_RATE,
    )
    .option('--seed <integer>', 'random seed (default: from the clock); the same seed gives the same logs', positiveInteger('--seed'))
    .option('--topic <name>', 'Kafka topic (default: kafka.topic)')
    .option(
      '--training-data <logs>',
      'write this many labeled logs to --out instead of producing to Kafka (every scenario, at least 30 rows each from 10,000 logs on)',
      positiveInteger('--training-data'),
    )
    .option('--out <file>', 'output file for --training-data')
    .addHelpText(
      'after',
      '\nExamples:\n  logstream generate --rate 50 --duration 300\n  logstream generate --count 200000 --rate 20000 --seed 7\n  logstream generate --training-data 10000 --out train.jsonl',
    )
    .action(async (options: GenerateOptions) => {
      if (options.trainingData !== undefined) return writeTrainingFile(options);
      await produceToKafka(options);
    });
}

async function writeTrainingFile(options: GenerateOptions): Promise<void> {
  if (!options.out) throw new UsageError('--training-data needs --out FILE');
  const count = options.trainingData!;
  const interactive = isInteractive();
  await writeTrainingData(
    options.out,
    count,
    options.seed ?? 42,
    (written, total) => {
      if (interactive) process.stdout.write(`\rwritten ${written.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`);
    },
    { anomalyRate: options.anomalyRate },
  );
  if (interactive) process.stdout.write('\n');
  process.stdout.write(`wrote ${count} labeled logs to ${options.out}\n`);
}

async function produceToKafka(options: GenerateOptions): Promise<void> {
  if (options.anomalyRate >= 1) throw new UsageError(`--anomaly-rate must be below 1, got ${options.anomalyRate}`);
  if (options.out) throw new UsageError('--out only goes with --training-data');
  const { config } = context();
  const topic = options.topic ?? config.kafka.topic;
  const count = options.count ?? Math.round(options.rate * (options.duration ?? 60));
  const generator = createTrafficGenerator({
    seed: options.seed ?? Date.now() % 2_147_483_647,
    startTimeMs: Date.now(),
    ratePerSecond: options.rate,
    anomalyRate: options.anomalyRate,
  });
  const kafka = createKafkaClient(config.kafka);
  try {
    await kafka.ensureTopic(topic, config.kafka.partitions);
    const producer = await kafka.createProducer();
    const interactive = isInteractive();
    const abort = new AbortController();
    const onInterrupt = () => abort.abort();
    process.once('SIGINT', onInterrupt);
    try {
      const result = await pacedSend({
        producer,
        topic,
        count,
        ratePerSecond: options.rate,
        signal: abort.signal,
        nextMessage: (): OutgoingMessage => {
          const log = generator.next();
          return { key: log.clientIp, value: toJsonLine(log) };
        },
        onProgress: interactive ? (progress) => process.stdout.write(`\r${progressLine(progress, count)}`) : undefined,
      });
      if (interactive) process.stdout.write('\n');
      process.stdout.write(
        `sent ${result.sent} logs to ${topic} in ${(result.elapsedMs / 1000).toFixed(1)} s (${Math.round(result.sent / Math.max(result.elapsedMs / 1000, 0.001))}/s)${abort.signal.aborted ? ', interrupted' : ''}\n`,
      );
    } finally {
      process.off('SIGINT', onInterrupt);
      await producer.close();
    }
  } finally {
    await kafka.close();
  }
}

export function progressLine(progress: SendProgress, total?: number): string {
  const format = (value: number) => Math.round(value).toLocaleString('en-US');
  const rate = `${format(progress.currentRatePerSecond)}/s`;
  if (total === undefined || !Number.isFinite(total)) return `sent ${format(progress.sent)}  ${rate}   `;
  const remainingSeconds = progress.currentRatePerSecond > 0 ? (total - progress.sent) / progress.currentRatePerSecond : 0;
  return `sent ${format(progress.sent)} / ${format(total)}  ${rate}  ETA ${Math.ceil(remainingSeconds)} s   `;
}
