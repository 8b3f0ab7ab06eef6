// `logstream evaluate`: score a log file with a model (champion, a version or a file) and report
// detection quality against labels, or the anomaly rate and the top anomalies with reasons; or,
// with --inject, measure detection on a user's own access log: train on its first part, inject
// attack episodes into the rest in the log's own vocabulary, report recall per attack kind.
import type { Command } from 'commander';
import { createMlflowClient } from '../../clients/mlflow/client.js';
import type { LogEvent } from '../../logs/record.js';
import { evaluateDetections, NORMAL_LABEL } from '../../ml/evaluate.js';
import { scoreEvents } from '../../ml/scoreEvents.js';
import { createDecoder } from '../../logs/decoder.js';
import { readLogFile } from '../../training/logFile.js';
import { loadModel } from '../../training/registry.js';
import type { ScoreResult } from '../../ml/scorer.js';
import { UsageError } from '../../config/errors.js';
import { context } from '../context.js';
import { formatTable } from '../../text/format.js';
import { parseNonNegativeInteger, parsePositiveInteger } from '../options.js';
import type { PipelineConfig } from '../../config/schema.js';
import { evaluateOnOwnTraffic } from '../../ml/gate.js';
import { MIN_TRAINING_ROWS } from '../../ml/train.js';

interface EvaluateOptions {
  model: string;
  data?: string;
  inject?: string;
  heldOut: string;
  seed?: string;
  labelField: string;
  json?: boolean;
  top: string;
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description(
      'score a log file with a model and print precision, recall and F1 per label, or the anomaly rate and top anomalies when unlabeled',
    )
    .option('--model <ref>', 'champion (or another alias), a registry version number, or a model JSON file', 'champion')
    .option(
      '--data <file>',
      'JSON-lines or Apache/Nginx combined log file, read with the mappings of kafka.topic (decode.topics, else decode.use)',
    )
    .option(
      '--inject <file>',
      'your own access log: train on its first part, inject labeled attack episodes (scans, credential stuffing, floods, scraping, error storms, exfiltration, SQL/script/traversal probes) into the rest in its own vocabulary, and print recall per attack kind and false positives on your rows',
    )
    .option('--held-out <fraction>', 'with --inject: the most recent share of the log to inject into (the rest trains the model)', '0.5')
    .option('--seed <n>', 'with --inject: seed of the training and the injection (default: ml.seed)')
    .option('--label-field <name>', 'JSON field holding the label', 'label')
    .option('--top <n>', 'anomalies to list when the data is unlabeled', '20')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  logstream evaluate --data holdout.jsonl\n  logstream evaluate --model 3 --data access.log --json\n  logstream evaluate --model model.json --data test.jsonl --label-field scenario\n  logstream evaluate --inject /var/log/nginx/access.log\n  logstream evaluate --inject access.log --held-out 0.3 --json',
    )
    .action(async (options: EvaluateOptions) => {
      const { config } = context();
      if (options.inject) return evaluateWithInjection(config, options);
      if (!options.data) throw new UsageError('evaluate needs --data FILE or --inject FILE');
      const top = parsePositiveInteger('--top', options.top);
      const client = createMlflowClient(config.mlflow);
      const { model, version } = await loadModel(options.model, { client, registeredModel: config.mlflow.registered_model });
      const contents = await readLogFile(options.data, {
        labelField: options.labelField,
        decoder: createDecoder(config.decode, { topic: config.kafka.topic, window: false }),
      });
      if (contents.events.length === 0) throw new UsageError(`${options.data} holds no usable log lines`);
      const results = await scoreEvents(model, contents.events, version);
      const labeled = contents.events.some((event) => event.label);
      const metrics = evaluateDetections(
        contents.events.map((event) => event.label),
        results.map((result) => result.isAnomaly),
      );
      const anomalies = topAnomalies(contents.events, results, top);
      const skipped = contents.lines - contents.events.length;

      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ model: version, rows: contents.events.length, skippedLines: skipped, labeled, anomalyRate: metrics.anomalyRate, ...(labeled ? { falsePositiveRate: metrics.falsePositiveRate, overall: metrics.overall, perLabel: metrics.perLabel } : {}), topAnomalies: anomalies })}\n`,
        );
        return;
      }
      process.stdout.write(
        `model ${version} (k=${model.training.k}, threshold ${model.threshold}) on ${contents.events.length} rows of ${options.data}${skipped ? `, ${skipped} unusable lines skipped` : ''}\n`,
      );
      process.stdout.write(`anomaly rate ${(metrics.anomalyRate * 100).toFixed(2)}%\n`);
      if (labeled) {
        const percent = (value: number) => value.toFixed(4);
        const rows = [
          [
            'overall',
            String(metrics.rows - (metrics.perLabel[0]?.rows ?? 0)),
            String(metrics.overall.truePositives),
            percent(metrics.overall.precision),
            percent(metrics.overall.recall),
            percent(metrics.overall.f1),
          ],
          ...metrics.perLabel.map((entry) => [
            entry.label,
            String(entry.rows),
            String(entry.flagged),
            percent(entry.precision),
            percent(entry.recall),
            percent(entry.f1),
          ]),
        ];
        process.stdout.write(formatTable(['LABEL', 'ROWS', 'FLAGGED', 'PRECISION', 'RECALL', 'F1'], rows));
        process.stdout.write(`false-positive rate on ${NORMAL_LABEL}/unlabeled rows: ${(metrics.falsePositiveRate * 100).toFixed(3)}%\n`);
        process.stdout.write(
          '(overall counts anomalous rows; per scenario, false positives are charged in proportion to its share of anomalous rows)\n',
        );
        return;
      }
      process.stdout.write(`top ${anomalies.length} anomalies:\n`);
      process.stdout.write(
        formatTable(
          ['SCORE', 'TIME', 'CLIENT', 'REQUEST', 'STATUS', 'CLUSTER', 'REASONS'],
          anomalies.map((anomaly) => [
            anomaly.score.toFixed(2),
            anomaly.timestamp,
            anomaly.clientIp,
            anomaly.request,
            String(anomaly.status),
            String(anomaly.cluster),
            anomaly.reasons,
          ]),
        ),
      );
    });
}

interface AnomalyLine {
  score: number;
  timestamp: string;
  clientIp: string;
  request: string;
  status: number;
  cluster: number;
  reasons: string;
}

function topAnomalies(events: readonly LogEvent[], results: readonly ScoreResult[], count: number): AnomalyLine[] {
  return results
    .map((result, index) => ({ result, index }))
    .filter(({ result }) => result.isAnomaly)
    .sort((a, b) => b.result.score - a.result.score)
    .slice(0, count)
    .map(({ result, index }) => {
      const event = events[index]!;
      const target = event.query ? `${event.path}?${event.query}` : event.path;
      return {
        score: result.score,
        timestamp: new Date(event.timestampMs).toISOString(),
        clientIp: event.clientIp,
        request: `${event.method} ${target.length > 60 ? `${target.slice(0, 57)}...` : target}`,
        status: event.status,
        cluster: result.cluster,
        reasons: (result.reasons ?? [])
          .map((reason) => `${reason.feature}=${reason.value} (${reason.deviation > 0 ? '+' : ''}${reason.deviation})`)
          .join(', '),
      };
    });
}

async function evaluateWithInjection(config: PipelineConfig, options: EvaluateOptions): Promise<void> {
  const file = options.inject!;
  if (options.data) throw new UsageError('use either --data or --inject, not both');
  const heldOutFraction = Number(options.heldOut);
  if (!(heldOutFraction > 0 && heldOutFraction < 1))
    throw new UsageError(`--held-out must be a fraction between 0 and 1, got ${options.heldOut}`);
  const seed = options.seed === undefined ? config.ml.seed : parseNonNegativeInteger('--seed', options.seed);
  const contents = await readLogFile(file, { decoder: createDecoder(config.decode, { topic: config.kafka.topic, window: false }) });
  const heldOutRows = Math.round(contents.events.length * heldOutFraction);
  if (contents.events.length - heldOutRows < MIN_TRAINING_ROWS || heldOutRows < 100)
    throw new UsageError(
      `${file} holds ${contents.events.length} usable log lines: too few to train on one part and inject into the other`,
    );
  const evaluation = await evaluateOnOwnTraffic(contents.events, {
    heldOutFraction,
    train: {
      kMin: config.ml.k_min,
      kMax: config.ml.k_max,
      seed,
      thresholdPercentile: config.ml.threshold_percentile,
      source: `file:${file}`,
    },
  });
  const { report, model } = evaluation;
  const skipped = contents.lines - contents.events.length;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        file,
        rows: contents.events.length,
        skippedLines: skipped,
        trainingRows: evaluation.trainingRows,
        heldOutRows: evaluation.heldOutRows,
        attackRows: report.attackRows,
        k: model.training.k,
        f1: report.f1,
        precision: report.precision,
        recall: report.recall,
        falsePositiveRate: report.falsePositiveRate,
        falsePositives: report.falsePositives,
        perScenario: report.perScenario,
      })}\n`,
    );
    return;
  }
  const span = (rows: readonly LogEvent[]) =>
    `${new Date(rows[0]!.timestampMs).toISOString()} .. ${new Date(rows.at(-1)!.timestampMs).toISOString()}`;
  const rows = evaluation.rounds[0]!.rows;
  process.stdout.write(
    `${file}: ${contents.events.length} rows${skipped ? ` (${skipped} unusable lines skipped)` : ''}; trained on the first ${evaluation.trainingRows} (k=${model.training.k}), injected ${report.attackRows} attack rows into the last ${evaluation.heldOutRows} (${span(rows)})\n`,
  );
  process.stdout.write(
    formatTable(
      ['ATTACK', 'ROWS', 'DETECTED', 'RECALL'],
      report.perScenario.map((entry) => [entry.kind, String(entry.rows), String(entry.detected), entry.recall.toFixed(3)]),
    ),
  );
  process.stdout.write(
    `overall: F1 ${report.f1.toFixed(4)}, precision ${report.precision.toFixed(4)}, recall ${report.recall.toFixed(4)}; false positives ${report.falsePositives} of your ${report.normalRows} rows (${(100 * report.falsePositiveRate).toFixed(2)}%; real attacks in your log count here too)\n`,
  );
}
