// `logstream train` (and, registered from here, `logstream evaluate`): fit the K-means anomaly
// model, publish it to MLflow and promote it to `champion` when it is at least as good.
import type { Command } from 'commander';
import { runTraining, type TrainingRunProgress } from '../../training/trainingRun.js';
import { context, isInteractive } from '../context.js';
import { formatTable } from '../../text/format.js';
import { parseNonNegativeInteger } from '../options.js';
import { ensureWorkerPolling, withTemporal } from '../../clients/temporal/control.js';
import type { PipelineConfig } from '../../config/schema.js';
import type { TrainingReport } from '../../workflows/types.js';
import { registerEvaluateCommand } from './evaluate.js';

interface TrainOptions {
  data?: string;
  seed?: string;
  register: boolean;
  out?: string;
  json?: boolean;
  temporal?: boolean;
}

export function registerModelCommands(program: Command): void {
  program
    .command('train')
    .description(
      'train the K-means anomaly model, log it to MLflow, register a version and promote it to "champion" if it passes the gate: on the site\'s own most recent traffic (held out, never fitted on) with attacks injected, within ml.gate_false_positive_budget and at least as good as the champion; generated training data is judged on the generator\'s labeled shop',
    )
    .option(
      '--data <file>',
      'JSON-lines or combined log file to train on, read with the mappings of kafka.topic (decode.topics, else decode.use; make one with `logstream generate --training-data N --out FILE`); default: a sample of ml.training_samples rows of the Delta logs table over the last ml.lookback_hours',
    )
    .option('--seed <n>', 'random seed for k-means++ and sampling (default: ml.seed)')
    .option('--no-register', 'train and evaluate only; do not talk to MLflow (writes the model to --out, default ./model.json)')
    .option('--out <file>', 'also write the model artifact (JSON) to this file')
    .option('--json', 'print the result as JSON')
    .option(
      '--temporal',
      'run trainingWorkflow on the workers through Temporal (Delta sample, MLflow, promotion, running pipelines told) and wait for its report',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  logstream generate --training-data 20000 --out train.jsonl\n  logstream train --data train.jsonl\n  logstream train                      # sample the Delta logs table\n  logstream train --data train.jsonl --no-register --out model.json',
    )
    .action(async (options: TrainOptions) => {
      const { config } = context();
      if (options.temporal) return trainThroughTemporal(config, options.json ?? false);
      const seed = options.seed === undefined ? undefined : parseNonNegativeInteger('--seed', options.seed);
      const outFile = options.out ?? (options.register ? undefined : 'model.json');
      const interactive = isInteractive() && !options.json;
      const started = performance.now();
      const result = await runTraining({
        config,
        dataFile: options.data,
        seed,
        register: options.register,
        outFile,
        onProgress: interactive ? (event) => process.stdout.write(`${progressText(event, started)}\n`) : undefined,
      });
      const { model, holdout, published } = result;
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({
            k: model.training.k,
            candidates: model.training.candidates,
            trainingRows: model.training.rows,
            trainingSeconds: model.training.trainingSeconds,
            backend: model.backend,
            threshold: model.threshold,
            origin: model.training.origin,
            holdout: {
              f1: holdout.overall.f1,
              precision: holdout.overall.precision,
              recall: holdout.overall.recall,
              falsePositiveRate: holdout.falsePositiveRate,
            },
            gate: result.gate && {
              f1: result.gate.report.f1,
              precision: result.gate.report.precision,
              recall: result.gate.report.recall,
              falsePositiveRate: result.gate.report.falsePositiveRate,
              heldOutRows: result.gate.heldOutRows,
              attackRows: result.gate.report.attackRows,
              perScenario: result.gate.report.perScenario,
            },
            runId: published?.run.runId,
            version: published?.version.version,
            promotion: published?.promotion,
            outFile: result.outFile,
          })}\n`,
        );
        return;
      }
      const rows = model.training.candidates.map((candidate) => [
        String(candidate.k),
        candidate.silhouette.toFixed(4),
        candidate.inertia.toExponential(3),
        String(candidate.iterations),
        candidate.k === model.training.k ? '<- chosen' : '',
      ]);
      process.stdout.write(formatTable(['K', 'SILHOUETTE', 'INERTIA', 'ITERATIONS', ''], rows));
      process.stdout.write(
        `trained on ${model.training.rows} rows${result.rejectedLines ? ` (${result.rejectedLines} unusable lines skipped)` : ''} in ${model.training.trainingSeconds.toFixed(1)} s on the ${model.backend} backend: k=${model.training.k}, threshold ${model.threshold}\n`,
      );
      if (result.gate) {
        const gate = result.gate.report;
        process.stdout.write(
          `gate: the site's ${result.gate.heldOutRows} most recent rows (held out) with ${gate.attackRows} attack rows injected: F1 ${gate.f1.toFixed(4)}, precision ${gate.precision.toFixed(4)}, recall ${gate.recall.toFixed(4)}, false positives ${(gate.falsePositiveRate * 100).toFixed(2)}% of the site's rows (budget ${(config.ml.gate_false_positive_budget * 100).toFixed(2)}%)\n`,
        );
        process.stdout.write(
          formatTable(
            ['ATTACK', 'ROWS', 'DETECTED', 'RECALL'],
            gate.perScenario.map((entry) => [entry.kind, String(entry.rows), String(entry.detected), entry.recall.toFixed(3)]),
          ),
        );
      }
      process.stdout.write(
        `${result.gate ? "generator's synthetic shop (extra metric)" : 'held-out labeled set'} (${holdout.rows} rows): F1 ${holdout.overall.f1.toFixed(4)}, precision ${holdout.overall.precision.toFixed(4)}, recall ${holdout.overall.recall.toFixed(4)}, false positives ${(holdout.falsePositiveRate * 100).toFixed(2)}% of normal rows\n`,
      );
      if (published) {
        process.stdout.write(`MLflow run ${published.run.runId}, ${config.mlflow.registered_model} version ${published.version.version}\n`);
        process.stdout.write(`${published.promotion.promoted ? 'promoted to champion' : 'not promoted'}: ${published.promotion.reason}\n`);
      }
      if (result.outFile) process.stdout.write(`model written to ${result.outFile}\n`);
    });
  registerEvaluateCommand(program);
}

function progressText(event: TrainingRunProgress, startedMs: number): string {
  const elapsed = `[${((performance.now() - startedMs) / 1000).toFixed(1)} s]`;
  switch (event.stage) {
    case 'reading':
      return event.lines === 0
        ? `${elapsed} sampling the Delta logs table`
        : `${elapsed} read ${event.lines.toLocaleString('en-US')} lines`;
    case 'features':
      return `${elapsed} features for ${event.rows.toLocaleString('en-US')} rows`;
    case 'kmeans':
      return `${elapsed} k=${event.k} (${event.done}/${event.total}): silhouette ${event.silhouette.toFixed(4)}, ${event.iterations} iterations`;
    case 'calibrate':
      return `${elapsed} calibrating scores`;
    case 'gate':
    case 'publishing':
      return `${elapsed} ${event.message}`;
  }
}

/** Starts trainingWorkflow on the configured task queue and prints its report when it finishes. */
async function trainThroughTemporal(config: PipelineConfig, json: boolean): Promise<void> {
  const report = await withTemporal(config.temporal, async (client) => {
    await ensureWorkerPolling(client, config.temporal.namespace, config.temporal.task_queue);
    const workflowId = `logstream-training-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const handle = await client.workflow.start('trainingWorkflow', { workflowId, taskQueue: config.temporal.task_queue, args: [{}] });
    if (!json) process.stderr.write(`started ${workflowId} on task queue ${config.temporal.task_queue}; waiting for it\n`);
    return (await handle.result()) as TrainingReport;
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const metrics = Object.entries(report.metrics ?? {})
    .map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`)
    .join(', ');
  process.stdout.write(
    `${config.mlflow.registered_model} version ${report.version}: ${report.promoted ? 'promoted to champion' : 'not promoted'}${metrics ? ` (${metrics})` : ''}\n`,
  );
  if (report.reason) process.stdout.write(`why: ${report.reason}\n`);
  process.stdout.write(`pipelines told to reload: ${report.pipelinesSignalled.join(', ') || 'none running'}\n`);
}
