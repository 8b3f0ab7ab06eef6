// `logstream table info|history|rows|optimize|vacuum|checkpoint PATH`: look at and maintain Delta tables.
import type { Command } from 'commander';
import { DeltaTable, deltaOptionsFromConfig, formatDeltaType, type DeltaTableOptions, type Snapshot } from '../../clients/delta/index.js';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { context } from '../context.js';
import { formatTable, toCsv } from '../../text/format.js';
import { parseChoice, parseNonNegativeInteger, parsePositiveInteger, parseTime } from '../options.js';
import { UsageError } from '../../config/errors.js';

function tableOptions(): DeltaTableOptions {
  const { config } = context();
  return deltaOptionsFromConfig(config.delta, config.s3);
}

async function openSnapshot(path: string, options: { version?: string; asOf?: string }): Promise<Snapshot> {
  if (options.version !== undefined && options.asOf !== undefined) throw new UsageError('--version and --as-of exclude each other');
  const table = await DeltaTable.open(path, tableOptions());
  if (options.version !== undefined) return table.snapshot({ version: parseNonNegativeInteger('--version', options.version) });
  if (options.asOf !== undefined) return table.snapshot({ timestampMs: parseTime('--as-of', options.asOf) });
  return table.snapshot();
}

/** The documented, stable JSON of `table info --json`. */
export function infoJson(path: string, snapshot: Snapshot): Record<string, unknown> {
  return {
    path,
    version: snapshot.version,
    schema: snapshot.schema.fields.map((field) => ({ name: field.name, type: formatDeltaType(field.type), nullable: field.nullable })),
    partitionColumns: [...snapshot.partitionColumns],
    fileCount: snapshot.fileCount,
    rowCount: snapshot.numRows ?? null,
    sizeBytes: snapshot.sizeBytes,
    txnVersions: snapshot.txnVersions(),
    protocol: { minReaderVersion: snapshot.protocol.minReaderVersion, minWriterVersion: snapshot.protocol.minWriterVersion },
    properties: snapshot.metadata.configuration ?? {},
  };
}

function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const write = (text: string) => process.stdout.write(text);

export function registerTableCommands(program: Command): void {
  const table = program
    .command('table')
    .description('look at and maintain Delta tables (info, history, rows, optimize, vacuum, checkpoint)');

  table
    .command('info')
    .description('version, schema, partition columns, files, rows, size and txn versions per appId')
    .argument('<path>', 'table folder (the one that contains _delta_log/) or s3://bucket/prefix/table')
    .option('--version <n>', 'read this version instead of the latest')
    .option('--as-of <time>', 'read the version current at this time (ISO-8601 or an age: 30m, 24h)')
    .option('--json', 'print the documented JSON object instead of text')
    .action(async (path: string, options: { version?: string; asOf?: string; json?: boolean }) => {
      const snapshot = await openSnapshot(path, options);
      const info = infoJson(path, snapshot);
      if (options.json) {
        write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const txns = Object.entries(snapshot.txnVersions());
      write(
        [
          `table       ${path}`,
          `version     ${snapshot.version}`,
          `partitions  ${snapshot.partitionColumns.length ? snapshot.partitionColumns.join(', ') : '(none)'}`,
          `files       ${snapshot.fileCount}`,
          `rows        ${snapshot.numRows ?? 'unknown (files without stats)'}`,
          `size        ${humanBytes(snapshot.sizeBytes)} (${snapshot.sizeBytes} bytes)`,
          `protocol    reader ${snapshot.protocol.minReaderVersion}, writer ${snapshot.protocol.minWriterVersion}`,
          `txn         ${txns.length ? txns.map(([appId, version]) => `${appId}=${version}`).join(', ') : '(none)'}`,
          '',
        ].join('\n'),
      );
      write(
        formatTable(
          ['COLUMN', 'TYPE', 'NULLABLE'],
          snapshot.schema.fields.map((field) => [field.name, formatDeltaType(field.type), field.nullable ? 'yes' : 'no']),
        ),
      );
    });

  table
    .command('history')
    .description('one line per commit still in the log: version, time, operation, rows added/removed')
    .argument('<path>', 'table folder or s3://bucket/prefix/table')
    .option('--json', 'print JSON lines ({version, timestamp, operation, rowsAdded, rowsRemoved, filesAdded, filesRemoved})')
    .action(async (path: string, options: { json?: boolean }) => {
      const deltaTable = await DeltaTable.open(path, tableOptions());
      const entries = await deltaTable.history();
      if (options.json) {
        for (const entry of entries) {
          const { commitInfo: _commitInfo, timestampMs, ...rest } = entry;
          write(`${JSON.stringify({ ...rest, timestamp: new Date(timestampMs).toISOString() })}\n`);
        }
        return;
      }
      write(
        formatTable(
          ['VERSION', 'TIME (UTC)', 'OPERATION', 'ROWS ADDED', 'ROWS REMOVED', 'FILES +/-'],
          entries.map((entry) => [
            String(entry.version),
            new Date(entry.timestampMs).toISOString(),
            entry.operation,
            String(entry.rowsAdded),
            String(entry.rowsRemoved),
            `+${entry.filesAdded}/-${entry.filesRemoved}`,
          ]),
        ),
      );
    });

  table
    .command('rows')
    .description('print rows, ordered by data file path then row position; timestamps as ISO-8601 UTC')
    .argument('<path>', 'table folder or s3://bucket/prefix/table')
    .option('--version <n>', 'read this version instead of the latest')
    .option('--as-of <time>', 'read the version current at this time')
    .option(
      '--where <expr>',
      'filter: col = value [and col >= value …]; operators = != < <= > >=; strings in quotes, e.g. "status = 500 and timestamp >= \'2024-01-01T00:00:00Z\'"',
    )
    .option('--columns <names>', 'comma-separated columns to print (default: all, in schema order)')
    .option('--limit <n>', 'print at most n rows')
    .option('--format <format>', 'json (one JSON object per line) or csv', 'json')
    .action(
      async (
        path: string,
        options: { version?: string; asOf?: string; where?: string; columns?: string; limit?: string; format: string },
      ) => {
        const format = parseChoice('--format', options.format, ['json', 'csv'] as const);
        const limit = options.limit === undefined ? undefined : parsePositiveInteger('--limit', options.limit);
        const snapshot = await openSnapshot(path, options);
        const columns = options.columns
          ?.split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        for (const column of columns ?? []) {
          if (!snapshot.schema.fields.some((field) => field.name === column))
            throw new UsageError(
              `--columns: no column "${column}"`,
              `columns: ${snapshot.schema.fields.map((field) => field.name).join(', ')}`,
            );
        }
        let header = true;
        for await (const { table: batch } of snapshot.scanBatches({ predicate: options.where, columns, limit })) {
          const rows = tableToJsonRows(batch);
          if (format === 'json') write(`${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
          else {
            const csv = toCsv(rows);
            write(header ? csv : csv.slice(csv.indexOf('\r\n') + 2));
            header = false;
          }
        }
        if (format === 'csv' && header) write(`${(columns ?? snapshot.schema.fields.map((field) => field.name)).join(',')}\r\n`);
      },
    );

  table
    .command('optimize')
    .description('bin-pack small files of each partition into target-size files (dataChange=false)')
    .argument('<path>', 'table folder or s3://bucket/prefix/table')
    .option('--target-size-mb <n>', 'target file size (default: config delta.target_file_size_mb)')
    .option('--json', 'print the result as JSON')
    .action(async (path: string, options: { targetSizeMb?: string; json?: boolean }) => {
      const targetMb =
        options.targetSizeMb === undefined
          ? context().config.delta.target_file_size_mb
          : parsePositiveInteger('--target-size-mb', options.targetSizeMb);
      const deltaTable = await DeltaTable.open(path, tableOptions());
      const result = await deltaTable.optimize({ targetSizeBytes: targetMb * 1024 * 1024 });
      if (options.json) {
        write(`${JSON.stringify(result)}\n`);
        return;
      }
      if (result.version === undefined) {
        write('nothing to optimize: no partition has two or more small files\n');
        return;
      }
      write(
        `version ${result.version}: ${result.filesRemoved} files (${humanBytes(result.bytesRemoved)}) rewritten as ${result.filesAdded} (${humanBytes(result.bytesAdded)}) in ${result.partitionsOptimized} partition(s)\n`,
      );
    });

  table
    .command('vacuum')
    .description('delete data files no version inside the retention window references')
    .argument('<path>', 'table folder or s3://bucket/prefix/table')
    .option('--retention-hours <h>', 'keep files needed by versions of the last h hours (default: config delta.vacuum_retention_hours)')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--force', 'allow a retention under 1 hour (only when nothing else uses the table)')
    .option('--json', 'print the result as JSON')
    .action(async (path: string, options: { retentionHours?: string; dryRun?: boolean; force?: boolean; json?: boolean }) => {
      const retentionHours =
        options.retentionHours === undefined ? context().config.delta.vacuum_retention_hours : Number(options.retentionHours);
      if (!Number.isFinite(retentionHours) || retentionHours < 0)
        throw new UsageError(`--retention-hours: expected a number ≥ 0, got "${options.retentionHours}"`);
      const deltaTable = await DeltaTable.open(path, tableOptions());
      const result = await deltaTable.vacuum({ retentionHours, dryRun: options.dryRun, force: options.force });
      if (options.json) {
        write(`${JSON.stringify(result)}\n`);
        return;
      }
      for (const file of result.files) write(`${result.dryRun ? 'would delete' : 'deleted'} ${file}\n`);
      write(`${result.dryRun ? 'would delete' : 'deleted'} ${result.files.length} file(s), ${humanBytes(result.bytes)}\n`);
    });

  table
    .command('checkpoint')
    .description('write a checkpoint of the latest version and clean up expired log files')
    .argument('<path>', 'table folder or s3://bucket/prefix/table')
    .option('--json', 'print the result as JSON')
    .action(async (path: string, options: { json?: boolean }) => {
      const deltaTable = await DeltaTable.open(path, tableOptions());
      const result = await deltaTable.checkpoint();
      if (options.json) {
        write(`${JSON.stringify(result)}\n`);
        return;
      }
      write(
        `checkpoint of version ${result.version} written (${result.actions} actions, ${result.path}); ${result.logFilesDeleted} expired log file(s) deleted\n`,
      );
    });
}
