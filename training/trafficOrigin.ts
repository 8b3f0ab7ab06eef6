// Tells generated training rows from a site's own: `logstream generate` labels every row with
// "normal" or one of its scenario names, which real access logs never carry.
import { SCENARIO_NAMES } from '../generator/index.js';
import type { LogEvent } from '../logs/record.js';
import type { TrafficOrigin } from '../ml/model.js';

const GENERATOR_LABELS = new Set<string>(['normal', ...SCENARIO_NAMES]);

export function trafficOrigin(events: readonly Pick<LogEvent, 'label'>[]): TrafficOrigin {
  if (events.length === 0) return 'site';
  for (const event of events) if (event.label === null || !GENERATOR_LABELS.has(event.label)) return 'site';
  return 'generated';
}
