// Worker thread that appends to Delta tables, so Parquet encoding, statistics and file writes use
// the second core and never block the streamer's event loop (alerts, Kafka heartbeats, decoding).
import { parentPort } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import { DeltaTable, type DeltaTableOptions } from '../clients/delta/index.js';
import type { AppendRequest, AppendResponse } from './deltaWriter.js';

const tables = new Map<string, Promise<DeltaTable>>();

function open(path: string, options: DeltaTableOptions): Promise<DeltaTable> {
  let table = tables.get(path);
  if (!table) {
    table = DeltaTable.open(path, options);
    tables.set(path, table);
    table.catch(() => tables.delete(path));
  }
  return table;
}

parentPort!.on('message', (request: AppendRequest) => {
  void (async () => {
    let response: AppendResponse;
    try {
      const table = await open(request.path, request.options);
      const outcome = await table.append(tableFromIPC(request.ipc), { txns: request.txns, operation: request.operation });
      response = { id: request.id, outcome: outcome.status === 'committed' ? { kind: 'committed', tableVersion: outcome.version } : { kind: 'duplicate' } };
    } catch (error) {
      response = { id: request.id, error: { name: (error as Error).name, message: (error as Error).message } };
    }
    parentPort!.postMessage(response);
  })();
});
