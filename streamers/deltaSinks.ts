// The four Delta tables of the lakehouse (logs, anomalies, metrics_1m, quarantine) as streamer
// sinks, on the clients/delta engine. Tables are created on first use with the streamer's schema.
import type { Table } from 'apache-arrow';
import { DeltaTable, tablePath, type DeltaTableOptions } from '../clients/delta/index.js';
import { DeltaWriterThread, type AppendSpec } from './deltaWriter.js';
import { commitInOrder, type DeltaTxn, type OrderedResult } from './orderedCommit.js';
import type {
  AppendOutcome,
  LakehouseSinks,
  ScoredRecord,
  TableAppend,
  TableAppendResult,
  TableName,
  TableSink,
  TxnMarker,
} from './sinks.js';
import {
  ANOMALIES_PARTITION_COLUMNS,
  LOGS_PARTITION_COLUMNS,
  METRICS_PARTITION_COLUMNS,
  QUARANTINE_PARTITION_COLUMNS,
  anomaliesTable,
  logsTable,
  metricsTable,
  quarantineTable,
  recordsFromLogsTable,
} from './tables.js';

/** Folder names under delta.root. */
export const TABLE_FOLDERS = { logs: 'logs', anomalies: 'anomalies', metrics: 'metrics_1m', quarantine: 'quarantine' } as const;

export interface LakehouseTables {
  sinks: LakehouseSinks;
  tables: Record<TableName, DeltaTable>;
  /** Stops the writer thread, if any. */
  close(): Promise<void>;
}

export interface LakehouseOptions {
  /** Append from a worker thread (default), or on the calling thread. */
  writerThread?: boolean;
}

export async function openLakehouseTables(
  root: string,
  options: DeltaTableOptions = {},
  lakehouse: LakehouseOptions = {},
): Promise<LakehouseTables> {
  const [logs, anomalies, metrics, quarantine] = await Promise.all([
    DeltaTable.openOrCreate(
      tablePath(root, TABLE_FOLDERS.logs),
      logsTable([]).schema,
      { partitionColumns: [...LOGS_PARTITION_COLUMNS], name: 'logs' },
      options,
    ),
    DeltaTable.openOrCreate(
      tablePath(root, TABLE_FOLDERS.anomalies),
      anomaliesTable([]).schema,
      { partitionColumns: [...ANOMALIES_PARTITION_COLUMNS], name: 'anomalies' },
      options,
    ),
    DeltaTable.openOrCreate(
      tablePath(root, TABLE_FOLDERS.metrics),
      metricsTable([]).schema,
      { partitionColumns: [...METRICS_PARTITION_COLUMNS], name: 'metrics_1m' },
      options,
    ),
    DeltaTable.openOrCreate(
      tablePath(root, TABLE_FOLDERS.quarantine),
      quarantineTable([]).schema,
      { partitionColumns: [...QUARANTINE_PARTITION_COLUMNS], name: 'quarantine' },
      options,
    ),
  ]);
  const tables = { logs, anomalies, metrics, quarantine };
  const writer = lakehouse.writerThread === false ? undefined : new DeltaWriterThread();
  const { storage: _storage, ...serializable } = options;
  const sink = (name: string, table: DeltaTable) => (writer ? threadSink(name, table, writer, serializable) : deltaSink(name, table));
  await writer?.warmUp(Object.values(tables).map((table) => ({ path: table.path, options: serializable })));
  const spec = (append: TableAppend): AppendSpec => ({
    path: tables[append.table].path,
    options: serializable,
    rows: append.rows,
    txns: append.txns.map(toDeltaTxn),
    operation: STREAMING_UPDATE,
  });
  const here = async (append: TableAppend) => ({
    table: tables[append.table],
    rows: append.rows,
    txns: append.txns.map(toDeltaTxn),
    operation: STREAMING_UPDATE,
  });
  return {
    tables,
    sinks: {
      logs: {
        ...sink('logs', logs),
        readRange: (topic, partition, afterOffset, throughOffset) => readRange(logs, topic, partition, afterOffset, throughOffset),
      },
      anomalies: sink('anomalies', anomalies),
      metrics: sink('metrics_1m', metrics),
      quarantine: sink('quarantine', quarantine),
      async commitInOrder(first, last) {
        const response = writer
          ? await writer.appendInOrder(first.map(spec), last && spec(last))
          : await commitInOrder(first.map(here), last && here(last));
        return { first: response.first.map(toResult), last: response.last && toResult(response.last) };
      },
    },
    close: async () => writer?.close(),
  };
}

const STREAMING_UPDATE = 'STREAMING UPDATE';

function toResult(result: OrderedResult): TableAppendResult {
  return 'error' in result ? { error: Object.assign(new Error(result.error.message), { name: result.error.name }) } : result;
}

/** Reads versions on this thread (cheap), appends on the writer thread. */
function threadSink(name: string, table: DeltaTable, writer: DeltaWriterThread, options: DeltaTableOptions): TableSink {
  return {
    name,
    async txnVersion(appId: string): Promise<bigint | undefined> {
      const version = await table.txnVersion(appId);
      return version === undefined ? undefined : BigInt(version);
    },
    append(rows: Table, txns: TxnMarker[]): Promise<AppendOutcome> {
      return writer.append({ path: table.path, options, rows, txns: txns.map(toDeltaTxn), operation: STREAMING_UPDATE });
    },
  };
}

function deltaSink(name: string, table: DeltaTable): TableSink {
  return {
    name,
    async txnVersion(appId: string): Promise<bigint | undefined> {
      const version = await table.txnVersion(appId);
      return version === undefined ? undefined : BigInt(version);
    },
    async append(rows: Table, txns: TxnMarker[]): Promise<AppendOutcome> {
      const outcome = await table.append(rows, {
        txns: txns.map(toDeltaTxn),
        operation: STREAMING_UPDATE,
      });
      return outcome.status === 'committed' ? { kind: 'committed', tableVersion: outcome.version } : { kind: 'duplicate' };
    },
  };
}

async function* readRange(
  table: DeltaTable,
  topic: string,
  partition: number,
  afterOffset: bigint,
  throughOffset: bigint,
): AsyncGenerator<ScoredRecord[]> {
  const snapshot = await table.snapshot();
  // Partition pruning cannot help (date/hour), but min/max stats on kafka_offset skip most files.
  const predicate = `kafka_topic = '${topic.replace(/'/g, "''")}' AND kafka_partition = ${partition} AND kafka_offset > ${afterOffset} AND kafka_offset <= ${throughOffset}`;
  for await (const { table: rows } of snapshot.scanBatches({ predicate })) {
    if (rows.numRows) yield recordsFromLogsTable(rows);
  }
}

/** Kafka offsets fit a double exactly up to 2^53; Delta txn versions are JSON numbers. */
function toDeltaTxn(txn: TxnMarker): DeltaTxn {
  return {
    appId: txn.appId,
    version: Number(txn.version),
    ...(txn.previousVersion === undefined ? {} : { previousVersion: Number(txn.previousVersion) }),
  };
}
