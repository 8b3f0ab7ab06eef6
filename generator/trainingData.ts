// Labeled training data: generated traffic in segments spread over a simulated week, so hours of
// the day and days of the week are represented, written as JSON lines for `logstream generate --training-data`.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { toJsonLine } from './jsonLine.js';
import { createRandom } from '../common/random.js';
import { EPISODE_LOGS, SCENARIO_NAMES } from './scenarios.js';
import { createTrafficGenerator, DEFAULT_ANOMALY_RATE, type GeneratedLog, type PlannedEpisode } from './traffic.js';

export interface TrainingDataOptions {
  /** Normal requests per second inside each segment (default 50). */
  ratePerSecond?: number;
  anomalyRate?: number;
  /** Start of the simulated week, epoch ms (default Monday 2026-01-05 00:00 UTC). */
  startTimeMs?: number;
}

export const TRAINING_WEEK_START_MS = Date.UTC(2026, 0, 5);
export const DEFAULT_TRAINING_RATE_PER_SECOND = 50;
/** Up to one segment every 6 hours of the week, so every hour and weekday can be represented. */
const MAX_SEGMENTS = 28;
const SEGMENT_SPACING_MS = 6 * 3_600_000;
/**
 * A segment lasts at least two client windows (2 × 60 s): the first window warms up each client's
 * request rate, error ratio and distinct paths, and the rest look like a long-running streamer's.
 * Shorter segments would teach the model that clients are quieter than they are in production.
 */
const MIN_SEGMENT_SECONDS = 120;

/**
 * A labeled file of at least FULL_COVERAGE_ROWS rows holds every scenario with at least
 * MIN_SCENARIO_ROWS rows, so recall can be measured per scenario: with 30 rows a recall of 0.8 is
 * known to about ±0.07 (one standard error), enough to tell a detected scenario from a missed one.
 * At the default 2% anomaly rate 10,000 rows give each of the 6 scenarios 33 rows anyway; the
 * minimum matters for lower rates. Smaller files still hold every scenario, with fewer rows.
 */
export const FULL_COVERAGE_ROWS = 10_000;
export const MIN_SCENARIO_ROWS = 30;

/**
 * The episodes of a labeled file (pure): each scenario gets its share of count × anomalyRate rows
 * (at least MIN_SCENARIO_ROWS from FULL_COVERAGE_ROWS rows on), split into episodes of about the
 * scenario's usual size, in a seeded shuffled order so scenarios are spread over the week.
 */
export function trainingEpisodePlan(count: number, anomalyRate: number, seed: number): PlannedEpisode[] {
  if (!(anomalyRate > 0)) return [];
  const share = Math.round((count * anomalyRate) / SCENARIO_NAMES.length);
  const rowsPerScenario = Math.max(share, count >= FULL_COVERAGE_ROWS ? MIN_SCENARIO_ROWS : 1);
  const episodes: PlannedEpisode[] = [];
  for (const scenario of SCENARIO_NAMES) {
    const [min, max] = EPISODE_LOGS[scenario];
    const pieces = Math.max(1, Math.round(rowsPerScenario / ((min + max) / 2)));
    for (let piece = 0; piece < pieces; piece += 1) {
      const logs = Math.floor((rowsPerScenario * (piece + 1)) / pieces) - Math.floor((rowsPerScenario * piece) / pieces);
      if (logs > 0) episodes.push({ scenario, logs });
    }
  }
  const random = createRandom((seed * 7919 + 13) >>> 0);
  for (let index = episodes.length - 1; index > 0; index -= 1) {
    const other = random.int(0, index);
    [episodes[index], episodes[other]] = [episodes[other]!, episodes[index]!];
  }
  return episodes;
}

/** How many segments `count` logs at `ratePerSecond` make, each at least MIN_SEGMENT_SECONDS long (pure). */
export function trainingSegments(count: number, ratePerSecond: number): number {
  return Math.max(1, Math.min(MAX_SEGMENTS, Math.floor(count / (ratePerSecond * MIN_SEGMENT_SECONDS))));
}

/** Yields `count` labeled logs in time order, deterministic for a seed. */
export function* trainingLogs(count: number, seed: number, options: TrainingDataOptions = {}): Generator<GeneratedLog> {
  const ratePerSecond = options.ratePerSecond ?? DEFAULT_TRAINING_RATE_PER_SECOND;
  const startTimeMs = options.startTimeMs ?? TRAINING_WEEK_START_MS;
  const segments = trainingSegments(count, ratePerSecond);
  // Every scenario is planned (not drawn at random), so a small file holds all of them; each
  // segment runs its part of the plan.
  const plan = trainingEpisodePlan(count, options.anomalyRate ?? DEFAULT_ANOMALY_RATE, seed);
  // Segments spread evenly over the week's 6-hour slots.
  const slotStep = MAX_SEGMENTS / segments;
  for (let segment = 0; segment < segments; segment += 1) {
    const segmentCount = Math.floor((count * (segment + 1)) / segments) - Math.floor((count * segment) / segments);
    if (segmentCount === 0) continue;
    const episodes = plan.slice(Math.floor((plan.length * segment) / segments), Math.floor((plan.length * (segment + 1)) / segments));
    const anomalous = episodes.reduce((sum, episode) => sum + episode.logs, 0);
    const generator = createTrafficGenerator({
      seed: (seed * 31 + segment) >>> 0,
      startTimeMs: startTimeMs + Math.floor(segment * slotStep) * SEGMENT_SPACING_MS,
      ratePerSecond,
      anomalyRate: options.anomalyRate ?? DEFAULT_ANOMALY_RATE,
      plannedEpisodes: { episodes, normalLogs: Math.max(1, segmentCount - anomalous) },
    });
    for (let index = 0; index < segmentCount; index += 1) yield generator.next();
  }
}

export function generateTrainingData(count: number, seed: number, options: TrainingDataOptions = {}): GeneratedLog[] {
  return Array.from(trainingLogs(count, seed, options));
}

/** Called every few thousand logs with how many are written so far. */
export type ProgressCallback = (written: number, total: number) => void;

/** Writes `count` labeled logs as JSON lines to `file`, honouring stream backpressure. */
export async function writeTrainingData(
  file: string,
  count: number,
  seed: number,
  onProgress?: ProgressCallback,
  options: TrainingDataOptions = {},
): Promise<void> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  let written = 0;
  let chunk: string[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const text = `${chunk.join('\n')}\n`;
    chunk = [];
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  for (const log of trainingLogs(count, seed, options)) {
    chunk.push(toJsonLine(log));
    written += 1;
    if (chunk.length === 2_000) {
      await flush();
      onProgress?.(written, count);
    }
  }
  await flush();
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  onProgress?.(written, count);
}
