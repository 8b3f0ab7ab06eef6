// The only place that opens connections to Temporal: a Client for commands and
// activities, a NativeConnection for workers. Both fail fast with the address named.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { PipelineConfig } from '../../config/schema.js';
import { TemporalUnreachableError } from './errors.js';

export type TemporalSettings = Pick<PipelineConfig['temporal'], 'address' | 'namespace'>;

const CONNECT_TIMEOUT_MS = 3_000;

/** A client connected to `temporal.address`; throws TemporalUnreachableError when nothing answers. */
export async function connectClient(settings: TemporalSettings): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.address, connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new TemporalUnreachableError(settings.address, error);
  }
  return new Client({ connection, namespace: settings.namespace });
}

/** The connection a Worker polls through. */
export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address: settings.address });
  } catch (error) {
    throw new TemporalUnreachableError(settings.address, error);
  }
}

/** Closes the client's connection; safe to call twice. */
export async function closeClient(client: Client): Promise<void> {
  await client.connection.close().catch(() => undefined);
}

/** Runs `use` with a connected client and always closes it. */
export async function withClient<T>(settings: TemporalSettings, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(settings);
  try {
    return await use(client);
  } finally {
    await closeClient(client);
  }
}
