// The two storages Delta tests run against: a local folder, and a prefix of the local stack's S3
// store (SeaweedFS, `logstream stack up s3`). A test written once over `storageCases` runs on both.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type S3Settings, type Storage } from '../../clients/delta/index.js';
import { S3_LOCAL_BUCKET, ensureLocalBucket, s3LocalSettings } from '../../infra/stack/services/s3.js';
import { requireService, stackConfig, uniqueName } from './stack.js';

export interface StorageCase {
  name: 'local' | 's3';
  /** A new, empty location for a table or a lakehouse root: a temp folder, or s3://logstream/<unique>. */
  scratch(prefix: string): string;
  /** Options for DeltaTable.open/create (the S3 settings, plain data like the configuration's). */
  options: { s3?: S3Settings };
  /** LOGSTREAM_* variables that point a `logstream` child process at this storage. */
  env: Record<string, string>;
  /** Fails with the fix when the storage's service is not running. */
  ready(): Promise<void>;
}

// Read on first use, so a child process that only gets settings passed in never loads the configuration.
let local: ReturnType<typeof s3LocalSettings> | undefined;
const s3 = () => {
  local ??= s3LocalSettings(stackConfig().stack.state_dir);
  return local;
};
let s3Ready: Promise<void> | undefined;

export const localCase: StorageCase = {
  name: 'local',
  scratch: (prefix) => join(mkdtempSync(join(tmpdir(), `logstream-${prefix}-`)), 'data'),
  options: {},
  env: {},
  ready: async () => undefined,
};

export const s3Case: StorageCase = {
  name: 's3',
  scratch: (prefix) => `s3://${S3_LOCAL_BUCKET}/tests/${uniqueName(prefix)}`,
  get options() {
    return { s3: s3() };
  },
  get env() {
    return {
      LOGSTREAM_S3_ENDPOINT: s3().endpoint,
      LOGSTREAM_S3_REGION: s3().region,
      LOGSTREAM_S3_FORCE_PATH_STYLE: 'true',
      LOGSTREAM_S3_ACCESS_KEY_ID: s3().accessKeyId,
      LOGSTREAM_S3_SECRET_ACCESS_KEY_FILE: s3().secretAccessKeyFile,
    };
  },
  ready() {
    s3Ready ??= requireService('s3').then(() => ensureLocalBucket(stackConfig().stack.state_dir, S3_LOCAL_BUCKET));
    return s3Ready;
  },
};

/** Every storage, for `for (const storage of storageCases) describe(\`… (${storage.name})\`, …)`. */
export const storageCases: readonly StorageCase[] = [localCase, s3Case];

/** The Storage of a table path, with the case's settings (for listing and writing files directly). */
export function storageOf(storage: StorageCase, path: string): Storage {
  return openStorage(path, storage.options);
}

/** Names of the files in a table's _delta_log, sorted. */
export async function logFileNames(storage: StorageCase, path: string): Promise<string[]> {
  return (await storageOf(storage, path).list('_delta_log/')).map((file) => file.path.slice('_delta_log/'.length));
}

/** Versions of the commit files in a table's log, ascending. */
export async function commitVersions(storage: StorageCase, path: string): Promise<number[]> {
  return (await logFileNames(storage, path))
    .filter((name) => /^\d{20}\.json$/.test(name))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** delta-rs storage_options for the case: the local S3 store's endpoint and key, with conditional put. */
export function deltaRsStorageOptions(storage: StorageCase): Record<string, string> | undefined {
  if (storage.name === 'local') return undefined;
  const settings = s3();
  return {
    AWS_ENDPOINT_URL: settings.endpoint,
    AWS_REGION: settings.region,
    AWS_ACCESS_KEY_ID: settings.accessKeyId,
    AWS_SECRET_ACCESS_KEY: readFileSync(settings.secretAccessKeyFile, 'utf8').trim(),
    AWS_ALLOW_HTTP: 'true',
    // Commits as put-if-absent (If-None-Match: *), like ours; without it delta-rs refuses to write to S3.
    aws_conditional_put: 'etag',
  };
}
