// `logstream analytics` and `logstream anomalies`: SQL over the Delta tables' current snapshots.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { renderHtml } from '../../analytics/html.js';
import { isUrlLocation, s3SettingsFromConfig } from '../../clients/delta/index.js';
import { openLakehouse } from '../../analytics/lakehouse.js';
import type { AnalyticsFilter } from '../../analytics/queries.js';
import { buildReport, section, type AnalyticsReport } from '../../analytics/report.js';
import { context } from '../context.js';
import { formatRows, toCsv } from '../../text/format.js';
import { parseChoice, parseNonNegativeInteger, parsePositiveInteger, parseTime } from '../options.js';

interface AnalyticsOptions {
  root?: string;
  from?: string;
  to?: string;
  endpoint?: string;
  limit: string;
  format: string;
  html?: string;
  version?: string;
}

const FORMATS = ['table', 'json', 'csv'] as const;

function addQueryOptions(command: Command): Command {
  return command
    .option('--root <dir>', 'folder or s3://bucket/prefix holding the Delta tables (default: delta.root)')
    .option('--from <time>', 'only logs at or after this time: ISO-8601 or an age like 24h, 7d')
    .option('--to <time>', 'only logs before this time: ISO-8601 or an age')
    .option('--endpoint <template>', 'only this endpoint template, e.g. /products/{id}')
    .option('--limit <n>', 'rows per ranking', '10')
    .option('--format <format>', `output: ${FORMATS.join(', ')}`, 'table')
    .option('--version <n>', 'read the logs table at this version');
}

function filterFrom(options: AnalyticsOptions): AnalyticsFilter {
  return {
    fromMs: options.from === undefined ? undefined : parseTime('--from', options.from),
    toMs: options.to === undefined ? undefined : parseTime('--to', options.to),
    endpoint: options.endpoint,
  };
}

async function runReport(options: AnalyticsOptions): Promise<{ report: AnalyticsReport; root: string }> {
  const { config } = context();
  const given = options.root ?? config.delta.root;
  const root = isUrlLocation(given) ? given : resolve(given);
  const limit = parsePositiveInteger('--limit', options.limit);
  const version = options.version === undefined ? undefined : parseNonNegativeInteger('--version', options.version);
  const filter = filterFrom(options);
  const lakehouse = await openLakehouse(root, { version, s3: s3SettingsFromConfig(config.s3), fromMs: filter.fromMs, toMs: filter.toMs });
  try {
    const report = await buildReport(lakehouse.session, {
      filter,
      limit,
      hasAnomalies: 'anomalies' in lakehouse.versions,
      tableVersion: lakehouse.versions.logs ?? null,
    });
    return { report, root };
  } finally {
    lakehouse.session.close();
  }
}

function print(report: AnalyticsReport, format: (typeof FORMATS)[number], only?: string): void {
  const sections = only ? report.sections.filter((part) => part.name === only) : report.sections;
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(only ? { ...report, sections } : report, null, 2)}\n`);
    return;
  }
  for (const part of sections) {
    if (format === 'csv')
      process.stdout.write(`${sections.length > 1 ? `# ${part.name}\n` : ''}${toCsv(part.rows)}${sections.length > 1 ? '\n' : ''}`);
    else process.stdout.write(`${sections.length > 1 ? `\n${part.title}\n` : ''}${formatRows(part.rows)}`);
  }
}

export function registerAnalyticsCommands(program: Command): void {
  addQueryOptions(
    program
      .command('analytics')
      .description('volume over time, error rate and latency by endpoint, anomaly rate by label, top clients and paths, latest anomalies')
      .option('--html <file>', 'also write a self-contained HTML report with charts to FILE'),
  ).action(async (options: AnalyticsOptions & { html?: string }) => {
    const format = parseChoice('--format', options.format, FORMATS);
    const { report, root } = await runReport(options);
    if (options.html) {
      const file = resolve(options.html);
      writeFileSync(file, await renderHtml(report, root));
      process.stderr.write(`wrote ${file}\n`);
    }
    print(report, format);
  });

  addQueryOptions(program.command('anomalies').description('the latest anomalies with their scores and reasons')).action(
    async (options: AnalyticsOptions) => {
      const format = parseChoice('--format', options.format, FORMATS);
      const { report } = await runReport(options);
      if (!section(report, 'latest_anomalies')) process.stderr.write('no anomalies table yet\n');
      print(report, format, 'latest_anomalies');
    },
  );
}
