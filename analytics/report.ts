// Runs the analytics queries over a lakehouse and returns one report object, the single source for
// every output format (table, JSON, CSV, HTML).
import type { SqlSession, Row } from '../clients/duckdb.js';
import {
  anomalyTypesQuery,
  bucketForRange,
  endpointsQuery,
  latestAnomaliesQuery,
  summaryQuery,
  topClientsQuery,
  topPathsQuery,
  volumeQuery,
  type AnalyticsFilter,
  type Query,
} from './queries.js';

export interface ReportSection {
  name: string;
  title: string;
  rows: Row[];
}

export interface AnalyticsReport {
  generatedAt: string;
  tableVersion: number | null;
  filter: { from: string | null; to: string | null; endpoint: string | null };
  /** Bucket width of the volume section. */
  bucket: string;
  sections: ReportSection[];
}

export interface ReportOptions {
  filter: AnalyticsFilter;
  limit: number;
  /** Whether the lakehouse has an anomalies table (latest anomalies come from it). */
  hasAnomalies: boolean;
  tableVersion: number | null;
}

export async function buildReport(session: SqlSession, options: ReportOptions): Promise<AnalyticsReport> {
  const run = async (query: Query): Promise<ReportSection> => ({
    name: query.name,
    title: query.title,
    rows: await session.query(query.sql, query.params),
  });
  const summary = await run(summaryQuery(options.filter));
  const first = Date.parse(String(summary.rows[0]?.first_seen ?? ''));
  const last = Date.parse(String(summary.rows[0]?.last_seen ?? ''));
  const bucket = bucketForRange(Number.isFinite(first) && Number.isFinite(last) ? last - first : 0);
  const sections = [
    summary,
    await run(volumeQuery(options.filter, bucket.interval)),
    await run(endpointsQuery(options.filter, options.limit)),
    await run(anomalyTypesQuery(options.filter)),
    await run(topClientsQuery(options.filter, options.limit)),
    await run(topPathsQuery(options.filter, options.limit)),
  ];
  if (options.hasAnomalies) sections.push(await run(latestAnomaliesQuery(options.filter, options.limit)));
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    generatedAt: new Date().toISOString(),
    tableVersion: options.tableVersion,
    filter: { from: iso(options.filter.fromMs), to: iso(options.filter.toMs), endpoint: options.filter.endpoint ?? null },
    bucket: bucket.label,
    sections,
  };
}

export function section(report: AnalyticsReport, name: string): ReportSection | undefined {
  return report.sections.find((candidate) => candidate.name === name);
}
