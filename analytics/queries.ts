// The SQL behind `logstream analytics`: pure builders over DuckDB views `logs` and `anomalies` that
// hold the Delta tables' active files (see analytics/lakehouse.ts). Column names are the tables'
// (streamers/tables.ts).

export interface AnalyticsFilter {
  /** Inclusive lower bound, epoch ms. */
  fromMs?: number;
  /** Exclusive upper bound, epoch ms. */
  toMs?: number;
  /** Only this endpoint template, e.g. /products/{id}. */
  endpoint?: string;
}

export interface Query {
  name: string;
  title: string;
  sql: string;
  params: unknown[];
}

/** WHERE clause and its parameters for a filter (DuckDB positional parameters $1, $2, …). */
export function whereClause(filter: AnalyticsFilter, extra: string[] = []): { sql: string; params: unknown[] } {
  const conditions: string[] = [...extra];
  const params: unknown[] = [];
  if (filter.fromMs !== undefined) {
    params.push(new Date(filter.fromMs).toISOString());
    conditions.push(`event_time >= CAST($${params.length} AS TIMESTAMPTZ)`);
  }
  if (filter.toMs !== undefined) {
    params.push(new Date(filter.toMs).toISOString());
    conditions.push(`event_time < CAST($${params.length} AS TIMESTAMPTZ)`);
  }
  if (filter.endpoint !== undefined) {
    params.push(filter.endpoint);
    conditions.push(`path_template = $${params.length}`);
  }
  return { sql: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** A query over the filtered rows: `build` gets the WHERE clause (or an empty string). */
function filtered(name: string, title: string, filter: AnalyticsFilter, build: (where: string) => string): Query {
  const where = whereClause(filter);
  return { name, title, sql: build(where.sql), params: where.params };
}

/** Bucket width for the volume chart: about 50–200 points over the range. */
export function bucketForRange(rangeMs: number): { label: string; interval: string } {
  const hour = 3_600_000;
  if (rangeMs <= 3 * hour) return { label: 'minute', interval: '1 minute' };
  if (rangeMs <= 2 * 24 * hour) return { label: '15 minutes', interval: '15 minutes' };
  if (rangeMs <= 14 * 24 * hour) return { label: 'hour', interval: '1 hour' };
  return { label: 'day', interval: '1 day' };
}

export function summaryQuery(filter: AnalyticsFilter): Query {
  return filtered(
    'summary',
    'Summary',
    filter,
    (where) => `SELECT count(*) AS requests,
        count(DISTINCT client_ip) AS clients,
        count(DISTINCT path_template) AS endpoints,
        sum(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS server_errors,
        sum(CASE WHEN status >= 400 AND status < 500 THEN 1 ELSE 0 END) AS client_errors,
        sum(CASE WHEN is_anomaly THEN 1 ELSE 0 END) AS anomalies,
        min(event_time) AS first_seen,
        max(event_time) AS last_seen
      FROM logs ${where}`,
  );
}

export function volumeQuery(filter: AnalyticsFilter, interval: string): Query {
  return filtered(
    'volume',
    'Requests over time',
    filter,
    (where) => `SELECT time_bucket(INTERVAL '${interval}', event_time) AS bucket,
        count(*) AS requests,
        sum(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS server_errors,
        sum(CASE WHEN is_anomaly THEN 1 ELSE 0 END) AS anomalies
      FROM logs ${where}
      GROUP BY bucket ORDER BY bucket`,
  );
}

export function endpointsQuery(filter: AnalyticsFilter, limit: number): Query {
  return filtered(
    'endpoints',
    'Endpoints: error rate and latency',
    filter,
    (where) => `SELECT path_template AS endpoint,
        count(*) AS requests,
        round(avg(CASE WHEN status >= 500 THEN 1.0 ELSE 0.0 END), 4) AS error_rate,
        round(quantile_cont(response_time_ms, 0.5), 1) AS p50_ms,
        round(quantile_cont(response_time_ms, 0.95), 1) AS p95_ms,
        round(quantile_cont(response_time_ms, 0.99), 1) AS p99_ms,
        sum(response_bytes) AS bytes
      FROM logs ${where}
      GROUP BY path_template ORDER BY requests DESC, endpoint LIMIT ${Math.trunc(limit)}`,
  );
}

export function anomalyTypesQuery(filter: AnalyticsFilter): Query {
  return filtered(
    'anomaly_types',
    'Anomaly rate by label',
    filter,
    (where) => `SELECT coalesce(label, 'unlabeled') AS label,
        count(*) AS requests,
        sum(CASE WHEN is_anomaly THEN 1 ELSE 0 END) AS anomalies,
        round(avg(CASE WHEN is_anomaly THEN 1.0 ELSE 0.0 END), 4) AS anomaly_rate
      FROM logs ${where}
      GROUP BY 1 ORDER BY anomalies DESC, label`,
  );
}

export function topClientsQuery(filter: AnalyticsFilter, limit: number): Query {
  return filtered(
    'top_clients',
    'Top clients',
    filter,
    (where) => `SELECT client_ip, count(*) AS requests,
        sum(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
        sum(CASE WHEN is_anomaly THEN 1 ELSE 0 END) AS anomalies,
        count(DISTINCT path) AS distinct_paths
      FROM logs ${where}
      GROUP BY client_ip ORDER BY requests DESC, client_ip LIMIT ${Math.trunc(limit)}`,
  );
}

export function topPathsQuery(filter: AnalyticsFilter, limit: number): Query {
  return filtered(
    'top_paths',
    'Top paths',
    filter,
    (where) => `SELECT path, count(*) AS requests,
        sum(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors
      FROM logs ${where}
      GROUP BY path ORDER BY requests DESC, path LIMIT ${Math.trunc(limit)}`,
  );
}

export function latestAnomaliesQuery(filter: AnalyticsFilter, limit: number): Query {
  return filtered(
    'latest_anomalies',
    'Latest anomalies',
    filter,
    (where) => `SELECT event_time, client_ip, method, path, status, response_time_ms, response_bytes,
        round(anomaly_score, 3) AS score, cluster, reasons, label
      FROM anomalies ${where}
      ORDER BY event_time DESC, kafka_partition, kafka_offset LIMIT ${Math.trunc(limit)}`,
  );
}
