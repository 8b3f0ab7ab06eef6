// Public API of the LogStream Delta Lake engine. Everything else in clients/delta is internal.
export { DeltaTable, deltaOptionsFromConfig, MINIMUM_VACUUM_RETENTION_HOURS } from './table.js';
export type {
  AppendOptions,
  AppendOutcome,
  StagedAppend,
  CreateOptions,
  DeltaTableOptions,
  HistoryEntry,
  VacuumOptions,
  VacuumResult,
} from './table.js';
export { Snapshot } from './snapshot.js';
export type { SnapshotScanOptions } from './snapshot.js';
export type { SnapshotSelector } from './snapshotLoader.js';
export type { CommitOutcome } from './commit.js';
export type { TxnRefusal } from './conflicts.js';
export type { OptimizeOptions, OptimizeResult } from './optimize.js';
export { parseStats } from './actions.js';
export type { AddFile, FileStats, Metadata, Protocol, Txn, TxnRequest } from './actions.js';
export { parseWhere } from './predicate.js';
export type { Predicate, Comparison } from './predicate.js';
export { LocalStorage } from './storage.js';
export type { Storage, StoredFile } from './storage.js';
export { S3Storage, isS3Url, parseS3Url, s3SettingsFromConfig } from './s3Storage.js';
export type { S3Settings, S3ConfigSection } from './s3Storage.js';
export { findTables, isUrlLocation, openStorage, tableExists, tablePath } from './location.js';
export type { StorageSettings } from './location.js';
export { formatDeltaType } from './schema.js';
export type { DeltaStructType, DeltaField, DeltaType } from './schema.js';
export {
  CommitConflictError,
  CommitRetriesExhaustedError,
  ConditionalWriteUnsupportedError,
  CorruptLogError,
  DeltaError,
  PredicateError,
  RetentionTooShortError,
  SchemaMismatchError,
  StorageLocationError,
  StorageRequestError,
  TableExistsError,
  TableNotFoundError,
  UnsupportedFeatureError,
  VersionNotFoundError,
} from './errors.js';
// Helpers for building and printing batches: Arrow JS's timestamp builder takes milliseconds, these keep microseconds.
export { tableFromColumns, timestampVectorFromMicros } from './arrowColumns.js';
export { tableToJsonRows } from './rowFormat.js';
