// The promotion gate on the site's own traffic (pure): a recent held-out slice of the site's rows,
// never fitted on, with labeled attack episodes injected in the site's vocabulary; per-scenario
// recall, the false-positive rate on the site's rows, and the decision to promote a candidate.
import type { LogEvent } from '../logs/record.js';
import { evaluateDetections, NORMAL_LABEL, type EvaluationMetrics } from './evaluate.js';
import { ATTACK_KINDS, injectEpisodes, renderEpisodes, siteProfile, type AttackKind } from './inject.js';
import type { ModelArtifact, TrafficOrigin } from './model.js';
import { scoreEvents } from './scoreEvents.js';
import { trainModel, type TrainOptions } from './train.js';
import type { ScoreResult } from './scorer.js';

export type { TrafficOrigin };

export interface ScenarioRecall {
  kind: string;
  rows: number;
  detected: number;
  recall: number;
}

export interface GateReport {
  rows: number;
  /** The site's own held-out rows (all counted as normal). */
  normalRows: number;
  attackRows: number;
  falsePositives: number;
  /** Share of the site's held-out rows flagged. */
  falsePositiveRate: number;
  precision: number;
  recall: number;
  f1: number;
  perScenario: ScenarioRecall[];
  metrics: EvaluationMetrics;
}

export interface GateSetOptions {
  seed: number;
  kinds?: readonly AttackKind[];
  episodesPerKind?: number;
  /** Addresses seen in the training part too: episodes never use them. */
  knownClients?: Iterable<string>;
}

/**
 * The held-out rows (in time order) as normal traffic with one episode of every attack kind
 * merged in, rendered from the held-out rows themselves (their endpoints, statuses, agents).
 */
export function gateSet(heldOut: readonly LogEvent[], options: GateSetOptions): LogEvent[] {
  const site = heldOut.map((event) => (event.label === NORMAL_LABEL ? event : { ...event, label: NORMAL_LABEL }));
  const profile = siteProfile(site, options.knownClients);
  const episodes = renderEpisodes(profile, { seed: options.seed, kinds: options.kinds, episodesPerKind: options.episodesPerKind });
  return injectEpisodes(site, episodes);
}

/** Splits rows by time: the earliest (1 - heldOutFraction) for training, the rest held out (both in time order). */
export function splitByTime<T extends { timestampMs: number }>(
  rows: readonly T[],
  heldOutFraction: number,
): { training: T[]; heldOut: T[] } {
  if (!(heldOutFraction > 0 && heldOutFraction < 1)) throw new RangeError(`held-out fraction must be in (0, 1), got ${heldOutFraction}`);
  const ordered = [...rows].sort((a, b) => a.timestampMs - b.timestampMs);
  const cut = Math.round(ordered.length * (1 - heldOutFraction));
  return { training: ordered.slice(0, cut), heldOut: ordered.slice(cut) };
}

export function gateReport(labels: readonly (string | null)[], isAnomaly: readonly boolean[]): GateReport {
  const metrics = evaluateDetections(labels, isAnomaly);
  const normal = metrics.perLabel.find((entry) => entry.label === NORMAL_LABEL) ?? { rows: 0, flagged: 0 };
  const perScenario = metrics.perLabel
    .filter((entry) => entry.label !== NORMAL_LABEL)
    .map((entry) => ({ kind: entry.label, rows: entry.rows, detected: entry.flagged, recall: entry.recall }));
  const order = (kind: string) => {
    const index = (ATTACK_KINDS as readonly string[]).indexOf(kind);
    return index < 0 ? ATTACK_KINDS.length : index;
  };
  perScenario.sort((a, b) => order(a.kind) - order(b.kind) || a.kind.localeCompare(b.kind));
  return {
    rows: metrics.rows,
    normalRows: normal.rows,
    attackRows: metrics.rows - normal.rows,
    falsePositives: normal.flagged,
    falsePositiveRate: metrics.falsePositiveRate,
    precision: metrics.overall.precision,
    recall: metrics.overall.recall,
    f1: metrics.overall.f1,
    perScenario,
    metrics,
  };
}

/** Scores the gate set as a streamer would (one client window, 10,000-row batches) and reports. */
export async function evaluateOnGateSet(
  model: ModelArtifact,
  rows: readonly LogEvent[],
  modelVersion = 'candidate',
): Promise<{ report: GateReport; results: ScoreResult[] }> {
  const results = await scoreEvents(model, rows, modelVersion, { reasons: true, maxReasons: 3 });
  const report = gateReport(
    rows.map((row) => row.label),
    results.map((result) => result.isAnomaly),
  );
  return { report, results };
}

export interface GatePolicy {
  /** Largest share of the site's held-out rows a promoted model may flag (config ml.gate_false_positive_budget). */
  falsePositiveBudget: number;
}

export interface GateContender {
  report: GateReport;
  origin: TrafficOrigin;
}

export interface ChampionOnGate {
  version: string;
  /** The champion's report on the same gate set; absent when it could not be loaded. */
  report?: GateReport;
  origin?: TrafficOrigin;
  /** Why the champion could not be scored (another feature spec, a corrupt artifact). */
  unusable?: string;
}

export interface GateDecision {
  promoted: boolean;
  reason: string;
}

const percent = (value: number) => `${(100 * value).toFixed(2)}%`;

/**
 * Promote only a candidate within the false-positive budget on the site's own rows, and at least
 * as good (F1 on the gate set) as the champion scored on the same set. A model trained on
 * generated traffic never replaces one trained on the site's own.
 */
export function decideOnOwnTraffic(candidate: GateContender, champion: ChampionOnGate | undefined, policy: GatePolicy): GateDecision {
  const own = `on the site's held-out traffic (${candidate.report.normalRows} rows, ${candidate.report.attackRows} injected attack rows)`;
  const figures = `F1 ${candidate.report.f1.toFixed(4)}, false positives ${percent(candidate.report.falsePositiveRate)}`;
  if (candidate.origin === 'generated' && champion?.origin === 'site')
    return { promoted: false, reason: `trained on generated traffic; champion version ${champion.version} was trained on the site's own` };
  if (candidate.report.falsePositiveRate > policy.falsePositiveBudget) {
    return {
      promoted: false,
      reason: `false positives ${percent(candidate.report.falsePositiveRate)} ${own} exceed the budget of ${percent(policy.falsePositiveBudget)}`,
    };
  }
  if (!champion) return { promoted: true, reason: `no champion yet; ${figures} ${own}` };
  if (!champion.report)
    return { promoted: true, reason: `champion version ${champion.version} is unusable (${champion.unusable}); ${figures} ${own}` };
  const theirs = `champion version ${champion.version} ${champion.report.f1.toFixed(4)}`;
  return candidate.report.f1 >= champion.report.f1
    ? {
        promoted: true,
        reason: `F1 ${candidate.report.f1.toFixed(4)} >= ${theirs} ${own}; false positives ${percent(candidate.report.falsePositiveRate)}`,
      }
    : { promoted: false, reason: `F1 ${candidate.report.f1.toFixed(4)} < ${theirs} ${own}` };
}

export interface OwnTrafficEvaluationOptions {
  /** Share of the rows, the most recent, held out and injected into (the rest trains the model). */
  heldOutFraction: number;
  /** Seeds of the injections: one gate set each, reports summed (default [seed of the training]). */
  injectionSeeds?: readonly number[];
  train: Omit<TrainOptions, 'origin'>;
}

export interface OwnTrafficEvaluation {
  model: ModelArtifact;
  trainingRows: number;
  heldOutRows: number;
  /** One per injection seed. */
  rounds: { seed: number; rows: LogEvent[]; report: GateReport; results: ScoreResult[] }[];
  /** The rounds' rows and flags together. */
  report: GateReport;
}

/**
 * What `logstream evaluate --inject` and bench ml-real measure, and the promotion gate judges: a
 * model trained on the earlier part of a site's own rows, scored on the later part with attack
 * episodes injected.
 */
export async function evaluateOnOwnTraffic(
  events: readonly LogEvent[],
  options: OwnTrafficEvaluationOptions,
): Promise<OwnTrafficEvaluation> {
  const { training, heldOut } = splitByTime(events, options.heldOutFraction);
  const { model } = await trainModel(training, { ...options.train, origin: 'site' });
  const knownClients = new Set(training.map((event) => event.clientIp));
  const rounds: OwnTrafficEvaluation['rounds'] = [];
  for (const seed of options.injectionSeeds ?? [options.train.seed]) {
    const rows = gateSet(heldOut, { seed, knownClients });
    const { report, results } = await evaluateOnGateSet(model, rows);
    rounds.push({ seed, rows, report, results });
  }
  const report = gateReport(
    rounds.flatMap((round) => round.rows.map((row) => row.label)),
    rounds.flatMap((round) => round.results.map((result) => result.isAnomaly)),
  );
  return { model, trainingRows: training.length, heldOutRows: heldOut.length, rounds, report };
}
