// Delta log actions (PROTOCOL.md "Actions") and their newline-delimited JSON form in commit files.

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Format {
  provider: string;
  options?: Record<string, string>;
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: Format;
  /** Delta schema as a JSON string ({"type":"struct","fields":[…]}). */
  schemaString: string;
  partitionColumns: string[];
  configuration?: Record<string, string | null>;
  createdTime?: number | null;
}

/** Partition values as Delta stores them: strings, null for a null value. */
export type PartitionValues = Record<string, string | null>;

export interface AddFile {
  /** Relative URI-encoded path from the table root (or an absolute URI). */
  path: string;
  partitionValues: PartitionValues;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON-encoded FileStats. */
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: PartitionValues | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/**
 * A txn we want to commit. `expectedVersion` (not written to the log) is the version the batch
 * continues from: the batch holds (expectedVersion, version]. When given, the commit is refused
 * unless the table's txn for appId is exactly that version (-1: the appId never committed), so a
 * batch can neither double rows another writer committed nor jump over rows nobody committed.
 */
export interface TxnRequest extends Txn {
  expectedVersion?: number;
}

export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, unknown>;
  readVersion?: number;
  isBlindAppend?: boolean;
  engineInfo?: string;
  [key: string]: unknown;
}

export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: Txn }
  | { commitInfo: CommitInfo }
  | { cdc: Record<string, unknown> }
  | { domainMetadata: Record<string, unknown> }
  | { checkpointMetadata: Record<string, unknown> }
  | { sidecar: Record<string, unknown> };

/** Statistics of one data file, as the `stats` JSON of an add action. */
export interface FileStats {
  numRecords: number;
  minValues?: Record<string, unknown>;
  maxValues?: Record<string, unknown>;
  nullCount?: Record<string, unknown>;
  tightBounds?: boolean;
}

/** Parses one commit file (newline-delimited JSON actions). Unknown action kinds are kept as-is. */
export function parseCommit(text: string): Action[] {
  const actions: Action[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed) actions.push(JSON.parse(trimmed) as Action);
  }
  return actions;
}

/** Serialises actions to commit-file text, one JSON object per line. */
export function serializeCommit(actions: readonly Action[]): string {
  return `${actions.map((action) => JSON.stringify(action)).join('\n')}\n`;
}

/** Parses an add action's stats, or undefined when absent or unreadable (skipping then keeps the file). */
export function parseStats(stats: string | null | undefined): FileStats | undefined {
  if (!stats) return undefined;
  try {
    return JSON.parse(stats) as FileStats;
  } catch {
    return undefined;
  }
}
