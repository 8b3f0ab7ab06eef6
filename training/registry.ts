// Publishing trained models to MLflow (run, params, metrics per k, artifact, chart, registered
// version) and promoting them to the `champion` alias only when they are at least as good on
// the held-out labeled set as the current champion. Also loads models by alias, version or file.
import { readFile } from 'node:fs/promises';
import type { MlflowClient, ModelVersion, RunInfo } from '../clients/mlflow/client.js';
import type { LogEvent } from '../logs/record.js';
import { ModelArtifactError } from '../ml/errors.js';
import type { EvaluationMetrics } from '../ml/evaluate.js';
import { evaluateModel } from '../ml/scoreEvents.js';
import { parseModelArtifact, serializeModel, type ModelArtifact } from '../ml/model.js';
import { renderEvaluationReport } from '../ml/report.js';

export const CHAMPION_ALIAS = 'champion';
export const MODEL_ARTIFACT_PATH = 'model/model.json';
export const REPORT_ARTIFACT_PATH = 'evaluation/report.html';

export interface PublishOptions {
  client: MlflowClient;
  experiment: string;
  registeredModel: string;
  model: ModelArtifact;
  /** Labeled rows both the new model and the champion are scored on. */
  holdout: readonly LogEvent[];
  /** Training settings recorded as run parameters. */
  params: Record<string, string | number>;
  onProgress?: (message: string) => void;
}

export interface Promotion {
  promoted: boolean;
  reason: string;
  previousVersion?: string;
  previousF1?: number;
}

export interface PublishResult {
  run: RunInfo;
  version: ModelVersion;
  holdout: EvaluationMetrics;
  promotion: Promotion;
}

export async function publishModel(options: PublishOptions): Promise<PublishResult> {
  const { client, model, registeredModel } = options;
  const progress = options.onProgress ?? (() => undefined);
  progress('scoring the held-out labeled set');
  const evaluation = await evaluateModel(model, options.holdout);
  const holdout = evaluation.metrics;

  const experimentId = await client.ensureExperiment(options.experiment);
  const run = await client.createRun(experimentId, `train-k${model.training.k}-${model.createdAt}`, {
    'logstream.feature_spec': model.featureSpec.id,
    'logstream.backend': model.backend,
  });
  try {
    progress(`logging run ${run.runId}`);
    await client.logBatch(run.runId, {
      params: {
        ...options.params,
        chosen_k: model.training.k,
        feature_spec: model.featureSpec.id,
        backend: model.backend,
        training_rows: model.training.rows,
        source: model.training.source,
      },
      metrics: [
        ...model.training.candidates.flatMap((candidate) => [
          { key: 'silhouette', value: candidate.silhouette, step: candidate.k },
          { key: 'inertia', value: candidate.inertia, step: candidate.k },
          { key: 'iterations', value: candidate.iterations, step: candidate.k },
        ]),
        { key: 'training_seconds', value: model.training.trainingSeconds },
        { key: 'training_flagged_fraction', value: model.training.flaggedFraction },
        { key: 'holdout_f1', value: holdout.overall.f1 },
        { key: 'holdout_precision', value: holdout.overall.precision },
        { key: 'holdout_recall', value: holdout.overall.recall },
        { key: 'holdout_false_positive_rate', value: holdout.falsePositiveRate },
        ...holdout.perLabel
          .filter((entry) => entry.label !== 'normal')
          .map((entry) => ({ key: `holdout_recall_${entry.label}`, value: entry.recall })),
      ],
    });
    await client.uploadArtifact(run, MODEL_ARTIFACT_PATH, serializeModel(model), 'application/json');
    const report = renderEvaluationReport({
      model,
      holdout: {
        metrics: holdout,
        scores: evaluation.results.map((result) => result.score),
        labels: options.holdout.map((event) => event.label),
      },
    });
    await client.uploadArtifact(run, REPORT_ARTIFACT_PATH, report, 'text/html');

    progress(`registering a version of ${registeredModel}`);
    await client.ensureRegisteredModel(registeredModel);
    const version = await client.createModelVersion(registeredModel, `${run.artifactUri}/model`, run.runId, {
      feature_spec: model.featureSpec.id,
      holdout_f1: holdout.overall.f1.toFixed(4),
    });

    const promotion = await decidePromotion(client, registeredModel, holdout.overall.f1, options.holdout);
    if (promotion.promoted) await client.setAlias(registeredModel, CHAMPION_ALIAS, version.version);
    await client.setModelVersionTag(
      registeredModel,
      version.version,
      'promotion',
      `${promotion.promoted ? 'promoted' : 'kept champion'}: ${promotion.reason}`,
    );
    await client.logBatch(run.runId, {
      tags: { 'logstream.model_version': version.version, 'logstream.promoted': String(promotion.promoted) },
    });
    await client.finishRun(run.runId);
    return { run, version, holdout, promotion };
  } catch (error) {
    await client.finishRun(run.runId, 'FAILED').catch(() => undefined);
    throw error;
  }
}

/** The champion is re-scored on the same holdout, so both F1 figures are comparable. */
async function decidePromotion(
  client: MlflowClient,
  registeredModel: string,
  newF1: number,
  holdout: readonly LogEvent[],
): Promise<Promotion> {
  const current = await client.getVersionByAlias(registeredModel, CHAMPION_ALIAS);
  if (!current) return { promoted: true, reason: 'no champion yet' };
  let championModel: ModelArtifact;
  try {
    championModel = await downloadModel(client, current);
  } catch (error) {
    if (error instanceof ModelArtifactError)
      return {
        promoted: true,
        reason: `champion version ${current.version} is unusable (${error.message})`,
        previousVersion: current.version,
      };
    throw error;
  }
  const previousF1 = (await evaluateModel(championModel, holdout)).metrics.overall.f1;
  const base = { previousVersion: current.version, previousF1 };
  return newF1 >= previousF1
    ? { promoted: true, reason: `holdout F1 ${newF1.toFixed(4)} >= champion version ${current.version} ${previousF1.toFixed(4)}`, ...base }
    : { promoted: false, reason: `holdout F1 ${newF1.toFixed(4)} < champion version ${current.version} ${previousF1.toFixed(4)}`, ...base };
}

export async function downloadModel(client: MlflowClient, version: ModelVersion): Promise<ModelArtifact> {
  const source = `${registeredName(version)} version ${version.version}`;
  const text = await client.downloadArtifact(`${version.source}/model.json`);
  return parseModelArtifact(parseJson(text, source), source);
}

const registeredName = (version: ModelVersion) => version.name;

export interface LoadedModel {
  model: ModelArtifact;
  /** Registry version, or the file path. */
  version: string;
}

/** Loads a model by alias ("champion"), version number or file path. */
export async function loadModel(reference: string, registry: { client: MlflowClient; registeredModel: string }): Promise<LoadedModel> {
  if (/[/\\.]/.test(reference)) {
    let text: string;
    try {
      text = await readFile(reference, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ModelArtifactError(code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (error as Error).message})`, reference);
    }
    return { model: parseModelArtifact(parseJson(text, reference), reference), version: reference };
  }
  const { client, registeredModel } = registry;
  const version = /^\d+$/.test(reference)
    ? await client.getModelVersion(registeredModel, reference)
    : await client.getVersionByAlias(registeredModel, reference);
  if (!version) {
    throw new ModelArtifactError(`alias "${reference}" does not exist`, registeredModel, 'train and register one with `logstream train`');
  }
  return { model: await downloadModel(client, version), version: version.version };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelArtifactError(`is not valid JSON (${(error as Error).message})`, source);
  }
}
