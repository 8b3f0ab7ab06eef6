// The four Delta tables of the lakehouse (logs, anomalies, metrics_1m, quarantine) as the streamer's
// Lakehouse, on the clients/delta engine. Tables are created on first use with the streamer's
// schema; appends run on the Delta writer thread (deltaWriter.ts) unless asked otherwise.
import type { Table } from 'apache-arrow';
import { DeltaTable, tablePath, type DeltaTableOptions, type TxnRequest } from '../clients/delta/index.js';
import { commitSteps, type StepAppend, type StepResult } from './commitSteps.js';
import { DeltaWriterThread, type AppendSpec } from './deltaWriter.js';
import type { AppendResult, Lakehouse, ScoredRecord, TableAppend, TableName, TxnMarker } from './sinks.js';
import {
  ANOMALIES_PARTITION_COLUMNS,
  LOGS_PARTITION_COLUMNS,
  METRICS_PARTITION_COLUMNS,
  QUARANTINE_PARTITION_COLUMNS,
  STATS_COLUMNS,
  anomaliesTable,
  logsTable,
  metricsTable,
  quarantineTable,
  recordsFromLogsTable,
} from './tables.js';

/** Folder names under delta.root. */
export const TABLE_FOLDERS = { logs: 'logs', anomalies: 'anomalies', metrics: 'metrics_1m', quarantine: 'quarantine' } as const;

export interface OpenLakehouse {
  lakehouse: Lakehouse;
  tables: Record<TableName, DeltaTable>;
  /** Stops the writer thread, if any. */
  close(): Promise<void>;
}

export interface LakehouseOptions {
  /** Append from a worker thread (default), or on the calling thread. */
  writerThread?: boolean;
}

const SCHEMAS = {
  logs: { schema: () => logsTable([]).schema, partitionColumns: LOGS_PARTITION_COLUMNS },
  anomalies: { schema: () => anomaliesTable([]).schema, partitionColumns: ANOMALIES_PARTITION_COLUMNS },
  metrics: { schema: () => metricsTable([]).schema, partitionColumns: METRICS_PARTITION_COLUMNS },
  quarantine: { schema: () => quarantineTable([]).schema, partitionColumns: QUARANTINE_PARTITION_COLUMNS },
} as const;

const STREAMING_UPDATE = 'STREAMING UPDATE';

export async function openLakehouse(
  root: string,
  options: DeltaTableOptions = {},
  settings: LakehouseOptions = {},
): Promise<OpenLakehouse> {
  const names = Object.keys(TABLE_FOLDERS) as TableName[];
  const opened = await Promise.all(
    names.map((name) =>
      DeltaTable.openOrCreate(
        tablePath(root, TABLE_FOLDERS[name]),
        SCHEMAS[name].schema(),
        {
          partitionColumns: [...SCHEMAS[name].partitionColumns],
          name: TABLE_FOLDERS[name],
          configuration: { 'delta.dataSkippingStatsColumns': STATS_COLUMNS[name] },
        },
        options,
      ),
    ),
  );
  const tables = Object.fromEntries(names.map((name, index) => [name, opened[index]!])) as Record<TableName, DeltaTable>;
  const writer = settings.writerThread === false ? undefined : new DeltaWriterThread();
  const { storage: _storage, ...serializable } = options;
  await writer?.warmUp(opened.map((table) => ({ path: table.path, options: serializable })));

  const spec = (append: TableAppend): AppendSpec => ({
    path: tables[append.table].path,
    options: serializable,
    rows: arrowRows(append),
    txns: append.txns.map(toDeltaTxn),
    operation: STREAMING_UPDATE,
  });
  const here = async (append: TableAppend): Promise<StepAppend> => ({
    table: tables[append.table],
    rows: arrowRows(append),
    txns: append.txns.map(toDeltaTxn),
    operation: STREAMING_UPDATE,
  });
  const lakehouse: Lakehouse = {
    async txnVersions(table, appIds) {
      // Versions are read on this thread: the cached snapshot brought up to date is cheap.
      await tables[table].update();
      const versions = new Map<string, bigint>();
      for (const appId of appIds) versions.set(appId, BigInt((await tables[table].txnVersion(appId)) ?? -1));
      return versions;
    },
    txnUpdatedAt: (table, appId) => tables[table].txnUpdatedAt(appId),
    async commitSteps(steps) {
      try {
        const results = writer
          ? await writer.commitSteps(steps.map((step) => step.map(spec)))
          : await commitSteps(steps.map((step) => step.map(here)));
        return results.map((step) => step.map(toAppendResult));
      } catch (error) {
        // The writer thread died or the rows could not be encoded: every outcome is unknown.
        return steps.map((step) => step.map((): AppendResult => ({ kind: 'failed', error: error as Error })));
      }
    },
    readRange: (table, topic, partition, after, through) => readRange(tables[table], topic, partition, after, through),
  };
  return { lakehouse, tables, close: async () => writer?.close() };
}

function arrowRows(append: TableAppend): Table {
  switch (append.table) {
    case 'logs':
      return logsTable(append.rows);
    case 'anomalies':
      return anomaliesTable(append.rows);
    case 'metrics':
      return metricsTable(append.rows);
    case 'quarantine':
      return quarantineTable(append.rows);
  }
}

function toAppendResult(result: StepResult): AppendResult {
  switch (result.kind) {
    case 'failed':
      return { kind: 'failed', error: Object.assign(new Error(result.error.message), { name: result.error.name }) };
    case 'refused':
      return {
        kind: 'refused',
        refused: result.refused.map((refusal) => ({ ...refusal, committedVersion: BigInt(refusal.committedVersion) })),
      };
    default:
      return result;
  }
}

async function* readRange(
  table: DeltaTable,
  topic: string,
  partition: number,
  after: bigint,
  through: bigint,
): AsyncGenerator<ScoredRecord[]> {
  const snapshot = await table.snapshot();
  // Partition pruning cannot help (date/hour), but min/max stats on kafka_offset skip most files.
  const predicate = `kafka_topic = '${topic.replace(/'/g, "''")}' AND kafka_partition = ${partition} AND kafka_offset > ${after} AND kafka_offset <= ${through}`;
  const records: ScoredRecord[] = [];
  for await (const { table: rows } of snapshot.scanBatches({ predicate })) if (rows.numRows) records.push(...recordsFromLogsTable(rows));
  // Files come in path order; the caller wants offset order.
  records.sort((left, right) => (left.offset < right.offset ? -1 : left.offset > right.offset ? 1 : 0));
  for (let start = 0; start < records.length; start += READ_CHUNK_ROWS) yield records.slice(start, start + READ_CHUNK_ROWS);
}

const READ_CHUNK_ROWS = 5_000;

/** Kafka offsets fit a double exactly up to 2^53; Delta txn versions are JSON numbers. */
function toDeltaTxn(txn: TxnMarker): TxnRequest {
  return {
    appId: txn.appId,
    version: Number(txn.version),
    ...(txn.expectedVersion === undefined ? {} : { expectedVersion: Number(txn.expectedVersion) }),
  };
}
