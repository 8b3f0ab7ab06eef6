// Publishing trained models to MLflow (run, params, metrics per k, artifact, charts, registered
// version) and promoting them to the `champion` alias through the gate: on the site's own held-out
// traffic with attack episodes injected when the site's data exists (ml/gate.ts), else on the
// generator's labeled shop. Also loads models by alias, version or file.
import { readFile } from 'node:fs/promises';
import type { MlflowClient, ModelVersion, RunInfo } from '../clients/mlflow/client.js';
import type { LogEvent } from '../logs/record.js';
import { ModelArtifactError } from '../ml/errors.js';
import type { EvaluationMetrics } from '../ml/evaluate.js';
import { decideOnOwnTraffic, evaluateOnGateSet, type ChampionOnGate, type GatePolicy, type GateReport } from '../ml/gate.js';
import { evaluateModel } from '../ml/scoreEvents.js';
import { parseModelArtifact, serializeModel, type ModelArtifact } from '../ml/model.js';
import { renderEvaluationReport } from '../ml/report.js';

export const CHAMPION_ALIAS = 'champion';
export const MODEL_ARTIFACT_PATH = 'model/model.json';
export const REPORT_ARTIFACT_PATH = 'evaluation/report.html';
export const GATE_ARTIFACT_PATH = 'evaluation/gate.json';

/** The own-traffic gate of a run: the gate set (held-out site rows with episodes), the candidate's report, the policy. */
export interface OwnTrafficGate {
  rows: readonly LogEvent[];
  report: GateReport;
  /** Per row of `rows`, the candidate's score. */
  scores: ArrayLike<number>;
  policy: GatePolicy;
}

export interface PublishOptions {
  client: MlflowClient;
  experiment: string;
  registeredModel: string;
  model: ModelArtifact;
  /** The generator's labeled shop: decides promotion only without `gate`, else an extra metric. */
  holdout: readonly LogEvent[];
  /** The site's own held-out traffic with attacks injected: decides promotion when given. */
  gate?: OwnTrafficGate;
  /** Training settings recorded as run parameters. */
  params: Record<string, string | number>;
  onProgress?: (message: string) => void;
}

export interface Promotion {
  promoted: boolean;
  reason: string;
  /** What decided: the site's own traffic, or the generator's shop. */
  basis: 'site traffic' | 'synthetic shop';
  previousVersion?: string;
  previousF1?: number;
  /** The champion's report on the same gate set (own-traffic gate). */
  champion?: GateReport;
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
        ...(options.gate ? gateMetrics(options.gate.report, 'gate') : []),
      ],
    });
    await client.uploadArtifact(run, MODEL_ARTIFACT_PATH, serializeModel(model), 'application/json');
    progress(`registering a version of ${registeredModel}`);
    await client.ensureRegisteredModel(registeredModel);
    const version = await client.createModelVersion(registeredModel, `${run.artifactUri}/model`, run.runId, {
      feature_spec: model.featureSpec.id,
      origin: model.training.origin,
      holdout_f1: holdout.overall.f1.toFixed(4),
      ...(options.gate ? { gate_f1: options.gate.report.f1.toFixed(4) } : {}),
    });

    progress(options.gate ? "scoring the champion on the site's held-out traffic" : 'scoring the champion on the held-out labeled set');
    const promotion = options.gate
      ? await decideOnGate(client, registeredModel, model, options.gate)
      : await decidePromotion(client, registeredModel, model, holdout.overall.f1, options.holdout);
    const report = renderEvaluationReport({
      model,
      holdout: {
        metrics: holdout,
        scores: evaluation.results.map((result) => result.score),
        labels: options.holdout.map((event) => event.label),
      },
      gate: options.gate
        ? {
            report: options.gate.report,
            scores: options.gate.scores,
            labels: options.gate.rows.map((event) => event.label),
            champion: promotion.champion ? { version: promotion.previousVersion!, report: promotion.champion } : undefined,
            decision: promotion,
            budget: options.gate.policy.falsePositiveBudget,
          }
        : undefined,
    });
    await client.uploadArtifact(run, REPORT_ARTIFACT_PATH, report, 'text/html');
    if (options.gate) {
      const gateArtifact = {
        basis: promotion.basis,
        promoted: promotion.promoted,
        reason: promotion.reason,
        falsePositiveBudget: options.gate.policy.falsePositiveBudget,
        candidate: withoutMetrics(options.gate.report),
        champion: promotion.champion ? { version: promotion.previousVersion, ...withoutMetrics(promotion.champion) } : undefined,
      };
      await client.uploadArtifact(run, GATE_ARTIFACT_PATH, `${JSON.stringify(gateArtifact, null, 1)}\n`, 'application/json');
      if (promotion.champion) await client.logBatch(run.runId, { metrics: gateMetrics(promotion.champion, 'champion_gate') });
    }
    if (promotion.promoted) await client.setAlias(registeredModel, CHAMPION_ALIAS, version.version);
    await client.setModelVersionTag(
      registeredModel,
      version.version,
      'promotion',
      `${promotion.promoted ? 'promoted' : 'kept champion'}: ${promotion.reason}`,
    );
    await client.logBatch(run.runId, {
      tags: {
        'logstream.model_version': version.version,
        'logstream.promoted': String(promotion.promoted),
        'logstream.promotion_basis': promotion.basis,
        'logstream.promotion_reason': promotion.reason.slice(0, 4_900),
      },
    });
    await client.finishRun(run.runId);
    return { run, version, holdout, promotion };
  } catch (error) {
    await client.finishRun(run.runId, 'FAILED').catch(() => undefined);
    throw error;
  }
}

/** MLflow metrics of a gate report: overall figures and recall per scenario. */
function gateMetrics(report: GateReport, prefix: string): { key: string; value: number }[] {
  return [
    { key: `${prefix}_f1`, value: report.f1 },
    { key: `${prefix}_precision`, value: report.precision },
    { key: `${prefix}_recall`, value: report.recall },
    { key: `${prefix}_false_positive_rate`, value: report.falsePositiveRate },
    ...report.perScenario.map((entry) => ({ key: `${prefix}_recall_${entry.kind}`, value: entry.recall })),
  ];
}

const withoutMetrics = ({ metrics: _metrics, ...report }: GateReport) => report;

type ChampionLoad = { version: string; model?: ModelArtifact; unusable?: string } | undefined;

async function loadChampion(client: MlflowClient, registeredModel: string): Promise<ChampionLoad> {
  const current = await client.getVersionByAlias(registeredModel, CHAMPION_ALIAS);
  if (!current) return undefined;
  try {
    return { version: current.version, model: await downloadModel(client, current) };
  } catch (error) {
    if (error instanceof ModelArtifactError) return { version: current.version, unusable: error.message };
    throw error;
  }
}

/** The champion is scored on the same gate set as the candidate; ml/gate.ts decides. */
async function decideOnGate(client: MlflowClient, registeredModel: string, model: ModelArtifact, gate: OwnTrafficGate): Promise<Promotion> {
  const loaded = await loadChampion(client, registeredModel);
  let champion: ChampionOnGate | undefined;
  if (loaded?.model) {
    const { report } = await evaluateOnGateSet(loaded.model, gate.rows, loaded.version);
    champion = { version: loaded.version, report, origin: loaded.model.training.origin };
  } else if (loaded) champion = { version: loaded.version, unusable: loaded.unusable };
  const decision = decideOnOwnTraffic({ report: gate.report, origin: model.training.origin }, champion, gate.policy);
  return {
    ...decision,
    basis: 'site traffic',
    previousVersion: champion?.version,
    previousF1: champion?.report?.f1,
    champion: champion?.report,
  };
}

/**
 * Without the site's own traffic (a model trained on generated logs): the champion is re-scored
 * on the same synthetic holdout, so both F1 figures are comparable. A model trained on generated
 * traffic never replaces one trained on the site's own.
 */
async function decidePromotion(
  client: MlflowClient,
  registeredModel: string,
  model: ModelArtifact,
  newF1: number,
  holdout: readonly LogEvent[],
): Promise<Promotion> {
  const basis = 'synthetic shop' as const;
  const loaded = await loadChampion(client, registeredModel);
  if (!loaded) return { promoted: true, reason: 'no champion yet', basis };
  if (!loaded.model)
    return {
      promoted: true,
      reason: `champion version ${loaded.version} is unusable (${loaded.unusable})`,
      basis,
      previousVersion: loaded.version,
    };
  if (model.training.origin === 'generated' && loaded.model.training.origin === 'site') {
    return {
      promoted: false,
      reason: `trained on generated traffic; champion version ${loaded.version} was trained on the site's own`,
      basis,
      previousVersion: loaded.version,
    };
  }
  const previousF1 = (await evaluateModel(loaded.model, holdout)).metrics.overall.f1;
  const base = { basis, previousVersion: loaded.version, previousF1 };
  return newF1 >= previousF1
    ? { promoted: true, reason: `holdout F1 ${newF1.toFixed(4)} >= champion version ${loaded.version} ${previousF1.toFixed(4)}`, ...base }
    : { promoted: false, reason: `holdout F1 ${newF1.toFixed(4)} < champion version ${loaded.version} ${previousF1.toFixed(4)}`, ...base };
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
