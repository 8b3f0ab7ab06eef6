// Per-minute, per-endpoint aggregates of one micro-batch (the metrics_1m table). Pure.
// Rows are partial: one per (minute, endpoint) per batch and partition, so a minute that spans
// batches has several rows; readers sum counts and weight percentiles by count.

export interface AggregateInput {
  timestampMs: number;
  pathTemplate: string;
  method: string;
  status: number;
  responseTimeMs: number | null;
  /** null: not scored (the pipeline is learning). */
  isAnomaly: boolean | null;
}

export interface MinuteAggregate {
  /** Start of the minute, epoch ms. */
  minuteStartMs: number;
  pathTemplate: string;
  method: string;
  requestCount: number;
  /** Responses with status >= 500. */
  serverErrorCount: number;
  /** Responses with status 400..499. */
  clientErrorCount: number;
  anomalyCount: number;
  /** Null when no request of the group carried a response time. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencyMaxMs: number | null;
  latencySumMs: number;
  /** Requests that carried a response time (the weight of the percentiles). */
  latencyCount: number;
}

const MINUTE_MS = 60_000;

interface Group {
  aggregate: MinuteAggregate;
  latencies: number[];
}

export function aggregatePerMinute(rows: Iterable<AggregateInput>): MinuteAggregate[] {
  const groups = groupRows(rows);
  const aggregates: MinuteAggregate[] = [];
  for (const group of groups) aggregates.push(withPercentiles(group));
  // By code unit, not localeCompare: the order only has to be deterministic, and ICU collation
  // costs many times a code-unit comparison.
  return aggregates.sort(
    (left, right) =>
      left.minuteStartMs - right.minuteStartMs ||
      compareText(left.pathTemplate, right.pathTemplate) ||
      compareText(left.method, right.method),
  );
}

/**
 * The rows' groups, in order of first appearance. A function of its own, apart from what is done
 * with the groups: when the loop was the body of aggregatePerMinute, V8 compiled it on the stack
 * (on-stack replacement) mid-loop and threw that code away at the first line after the loop,
 * which had no type feedback yet, batch after batch (102 deoptimisations in 480 calls, measured).
 */
function groupRows(rows: Iterable<AggregateInput>): Group[] {
  // Keyed minute → method → template: the per-row work builds no key strings.
  const minutes = new Map<number, Map<string, Map<string, Group>>>();
  const groups: Group[] = [];
  for (const row of rows) {
    const minuteStartMs = Math.floor(row.timestampMs / MINUTE_MS) * MINUTE_MS;
    let methods = minutes.get(minuteStartMs);
    if (!methods) {
      methods = new Map();
      minutes.set(minuteStartMs, methods);
    }
    let templates = methods.get(row.method);
    if (!templates) {
      templates = new Map();
      methods.set(row.method, templates);
    }
    let group = templates.get(row.pathTemplate);
    if (!group) {
      group = {
        latencies: [],
        aggregate: {
          minuteStartMs,
          pathTemplate: row.pathTemplate,
          method: row.method,
          requestCount: 0,
          serverErrorCount: 0,
          clientErrorCount: 0,
          anomalyCount: 0,
          latencyP50Ms: null,
          latencyP95Ms: null,
          latencyP99Ms: null,
          latencyMaxMs: null,
          latencySumMs: 0,
          latencyCount: 0,
        },
      };
      templates.set(row.pathTemplate, group);
      groups.push(group);
    }
    const aggregate = group.aggregate;
    aggregate.requestCount += 1;
    if (row.status >= 500) aggregate.serverErrorCount += 1;
    else if (row.status >= 400) aggregate.clientErrorCount += 1;
    if (row.isAnomaly) aggregate.anomalyCount += 1;
    if (row.responseTimeMs !== null) {
      group.latencies.push(row.responseTimeMs);
      aggregate.latencySumMs += row.responseTimeMs;
    }
  }
  return groups;
}

/**
 * The group's aggregate with its latency percentiles, filled in place: every aggregate keeps the
 * one shape it was made with, so the code that reads them (and the committer, which adds the
 * partition's fields) sees one object shape.
 */
function withPercentiles({ aggregate, latencies }: Group): MinuteAggregate {
  if (latencies.length === 0) return aggregate;
  const sorted = new Float64Array(latencies).sort();
  aggregate.latencyCount = sorted.length;
  aggregate.latencyP50Ms = percentile(sorted, 0.5);
  aggregate.latencyP95Ms = percentile(sorted, 0.95);
  aggregate.latencyP99Ms = percentile(sorted, 0.99);
  aggregate.latencyMaxMs = sorted[sorted.length - 1]!;
  return aggregate;
}

const compareText = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);

/** Nearest-rank percentile of sorted values (the value at rank ceil(q·n)). */
export function percentile(sortedValues: ArrayLike<number>, quantile: number): number {
  if (sortedValues.length === 0) throw new RangeError('percentile of no values');
  const rank = Math.max(1, Math.ceil(quantile * sortedValues.length));
  return sortedValues[Math.min(rank, sortedValues.length) - 1]!;
}
