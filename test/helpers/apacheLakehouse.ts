// Fills a lakehouse folder (logs and anomalies tables) from the real Apache log in test/fixtures,
// decoded and scored the way the streamer does, for tests of what reads the tables.
import { readFileSync } from 'node:fs';
import { DeltaTable, tablePath, type StorageSettings } from '../../clients/delta/index.js';
import { decodeLine } from '../../logs/decode.js';
import type { ScoredRecord } from '../../streamers/sinks.js';
import { LOGS_PARTITION_COLUMNS, ANOMALIES_PARTITION_COLUMNS, anomaliesTable, logsTable } from '../../streamers/tables.js';

import { APACHE_LOG } from './fixtures.js';

export { APACHE_LOG };

export async function scoredApacheRecords(): Promise<ScoredRecord[]> {
  const lines = readFileSync(APACHE_LOG, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
  const now = Date.now();
  const events = lines.flatMap((line) => {
    const result = decodeLine(line, now);
    return result.ok ? [result.event] : [];
  });
  // A fixed rule stands in for a model, so the tables hold anomalies to report: 5xx and slow answers.
  return events.map((event, index) => {
    const serverError = event.status >= 500;
    const slow = event.responseTimeMs !== null && event.responseTimeMs > 2000;
    return {
      ...event,
      topic: 'apache-replay',
      partition: 0,
      offset: BigInt(index),
      kafkaTimestampMs: now,
      ingestTimeMs: now,
      anomalyScore: serverError ? 0.9 : event.status >= 400 ? 0.3 : 0,
      isAnomaly: serverError || slow,
      cluster: -1,
      modelVersion: 'rule',
      reasons: [...(serverError ? ['status'] : []), ...(slow ? ['response_time_ms'] : [])],
    };
  });
}

/** Writes the records in commits of `batchSize` rows into root/logs and root/anomalies (root a folder or s3://…). */
export async function writeLakehouse(
  root: string,
  records: ScoredRecord[],
  batchSize = 2500,
  storage: StorageSettings = {},
): Promise<void> {
  const logs = await DeltaTable.create(
    tablePath(root, 'logs'),
    logsTable(records.slice(0, 1)).schema,
    { partitionColumns: [...LOGS_PARTITION_COLUMNS] },
    storage,
  );
  const anomalies = await DeltaTable.create(
    tablePath(root, 'anomalies'),
    anomaliesTable(records.slice(0, 1)).schema,
    { partitionColumns: [...ANOMALIES_PARTITION_COLUMNS] },
    storage,
  );
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    await logs.append(logsTable(batch));
    const flagged = batch.filter((record) => record.isAnomaly);
    if (flagged.length) await anomalies.append(anomaliesTable(flagged));
  }
}
