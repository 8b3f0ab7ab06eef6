// `logstream evaluate`: score a log file with a model (champion, a version or a file) and report
// detection quality against labels, or the anomaly rate and the top anomalies with reasons.
import type { Command } from 'commander';
import { MlflowClient } from '../../clients/mlflow/client.js';
import type { LogEvent } from '../../logs/record.js';
import { evaluateDetections, NORMAL_LABEL } from '../../ml/evaluate.js';
import { scoreEvents } from '../../ml/scoreEvents.js';
import { readLogFile } from '../../training/logFile.js';
import { loadModel } from '../../training/registry.js';
import type { ScoreResult } from '../../ml/scorer.js';
import { UsageError } from '../../config/errors.js';
import { context } from '../context.js';
import { formatTable } from '../format.js';
import { parsePositiveInteger } from '../options.js';

interface EvaluateOptions {
  model: string;
  data?: string;
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
    .option('--data <file>', 'JSON-lines or Apache/Nginx combined log file')
    .option('--label-field <name>', 'JSON field holding the label', 'label')
    .option('--top <n>', 'anomalies to list when the data is unlabeled', '20')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  logstream evaluate --data holdout.jsonl\n  logstream evaluate --model 3 --data access.log --json\n  logstream evaluate --model model.json --data test.jsonl --label-field scenario',
    )
    .action(async (options: EvaluateOptions) => {
      const { config } = context();
      if (!options.data) throw new UsageError('evaluate needs --data FILE');
      const top = parsePositiveInteger('--top', options.top);
      const client = new MlflowClient({ trackingUri: config.mlflow.tracking_uri });
      const { model, version } = await loadModel(options.model, { client, registeredModel: config.mlflow.registered_model });
      const contents = await readLogFile(options.data, { labelField: options.labelField });
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
