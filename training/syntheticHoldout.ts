// The generator's synthetic shop as a labeled held-out set: one segment per scenario. An extra
// metric of every training run; it decides promotion only when the site's own data is missing.
import { EPISODE_LOGS, SCENARIO_NAMES, type ScenarioName } from '../generator/scenarios.js';
import { createTrafficGenerator } from '../generator/traffic.js';
import type { LogEvent } from '../logs/record.js';

export const HOLDOUT_ROWS = 60_000;
/** A Tuesday morning, outside the training week, so holdout traffic is never training traffic. */
const HOLDOUT_START_MS = Date.UTC(2026, 1, 3, 9);
const SEGMENT_SPACING_MS = 86_400_000;
/** Each scenario gets at least this many anomalous rows, so no scenario is missing by chance. */
const MIN_ANOMALOUS_PER_SCENARIO = 150;

/**
 * Generated labeled traffic with every scenario: one segment per scenario (a day apart), each
 * long enough to hold at least MIN_ANOMALOUS_PER_SCENARIO of its anomalous rows. The same seed
 * always gives the same set.
 */
export function holdoutEvents(seed: number, rows = HOLDOUT_ROWS, scenarios: readonly ScenarioName[] = SCENARIO_NAMES): LogEvent[] {
  const segmentRows = Math.ceil(rows / scenarios.length);
  const events: LogEvent[] = [];
  scenarios.forEach((scenario, index) => {
    // Dense enough that even the longest episodes (floods) start early in their segment.
    const [shortest, longest] = EPISODE_LOGS[scenario];
    const anomalyRate = Math.min(0.25, Math.max(0.02, (shortest + longest) / segmentRows));
    const generator = createTrafficGenerator({
      seed: (seed * 7919 + index * 104_729 + 17) >>> 0,
      startTimeMs: HOLDOUT_START_MS + index * SEGMENT_SPACING_MS,
      ratePerSecond: 50,
      anomalyRate,
      scenarios: [scenario],
    });
    let anomalous = 0;
    for (let count = 0; count < 6 * segmentRows && (count < segmentRows || anomalous < MIN_ANOMALOUS_PER_SCENARIO); count += 1) {
      const event = generator.next();
      if (event.label !== 'normal') anomalous += 1;
      events.push(event);
    }
  });
  return events;
}
