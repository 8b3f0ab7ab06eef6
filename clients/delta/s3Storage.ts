// Delta tables on S3 and S3-compatible object stores: a commit is a conditional PUT (If-None-Match: *),
// the log is listed with ListObjectsV2 from a start key, Parquet reads can be ranged, large files go
// up in parts. A store that ignores If-None-Match is refused when a table opens (see verify()).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConditionalWriteUnsupportedError, StorageLocationError, StorageRequestError } from './errors.js';
import type { ListOptions, Storage, StoredFile } from './storage.js';

/**
 * How to reach the store. Plain data, so it crosses postMessage to the Delta writer thread; the
 * secret key itself is never in it, only the file it is read from.
 */
export interface S3Settings {
  /** An S3-compatible endpoint URL; unset means AWS S3 (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). */
  endpoint?: string;
  /** Unset: AWS_REGION, AWS_DEFAULT_REGION or the profile's region; us-east-1 for a custom endpoint without one. */
  region?: string;
  /** Bucket in the path (http://host/bucket/key) instead of the host name; most self-hosted stores need it. */
  forcePathStyle?: boolean;
  /** Static credentials: the key id, with the secret read from secretAccessKeyFile. */
  accessKeyId?: string;
  secretAccessKeyFile?: string;
  /** A profile of the shared AWS config and credentials files. */
  profile?: string;
  /** Files at least this large are uploaded in parts (default 64 MiB). */
  multipartThresholdBytes?: number;
  /** Size of each part (default 16 MiB; S3's minimum is 5 MiB). */
  multipartPartBytes?: number;
}

/** The `s3` section of the pipeline configuration (config/schema.ts), as clients/delta sees it. */
export interface S3ConfigSection {
  endpoint?: string;
  region?: string;
  force_path_style: boolean;
  access_key_id?: string;
  secret_access_key_file?: string;
  profile?: string;
  multipart_threshold_mb: number;
  multipart_part_size_mb: number;
}

export function s3SettingsFromConfig(s3: S3ConfigSection): S3Settings {
  const settings: S3Settings = {
    forcePathStyle: s3.force_path_style,
    multipartThresholdBytes: s3.multipart_threshold_mb * 1024 * 1024,
    multipartPartBytes: s3.multipart_part_size_mb * 1024 * 1024,
  };
  if (s3.endpoint) settings.endpoint = s3.endpoint;
  if (s3.region) settings.region = s3.region;
  if (s3.access_key_id) settings.accessKeyId = s3.access_key_id;
  if (s3.secret_access_key_file) settings.secretAccessKeyFile = s3.secret_access_key_file;
  if (s3.profile) settings.profile = s3.profile;
  return settings;
}

export interface S3Location {
  bucket: string;
  /** Key prefix of the table's files: '' or ending in '/'. */
  prefix: string;
}

const schemePattern = /^s3a?:\/\//i;

export function isS3Url(path: string): boolean {
  return schemePattern.test(path);
}

/** s3://bucket/prefix/table → bucket and 'prefix/table/'. */
export function parseS3Url(url: string): S3Location {
  const rest = url.replace(schemePattern, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new StorageLocationError(url, `"${bucket}" is not a valid bucket name`, 'write the location as s3://bucket/prefix/table');
  const key = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..') && key !== '')
    throw new StorageLocationError(
      url,
      'the key prefix has an empty, "." or ".." segment',
      'write the location as s3://bucket/prefix/table',
    );
  return { bucket, prefix: key ? `${key}/` : '' };
}

const DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024;
const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
const MINIMUM_PART_SIZE = 5 * 1024 * 1024;

function readSecretFile(location: string, file: string): string {
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (!secret) throw new Error('the file is empty');
    return secret;
  } catch (error) {
    throw new StorageLocationError(
      location,
      `cannot read the secret access key from ${file}: ${(error as Error).message}`,
      'check s3.secret_access_key_file',
    );
  }
}

/** The SDK client configuration for the settings (credentials are read here, never kept in settings). */
export function s3ClientConfig(location: string, settings: S3Settings, env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const config: S3ClientConfig = { forcePathStyle: settings.forcePathStyle ?? false };
  if (settings.endpoint) {
    if (!/^https?:\/\/[^\s/]+/.test(settings.endpoint))
      throw new StorageLocationError(
        location,
        `s3.endpoint "${settings.endpoint}" is not an http(s) URL`,
        'for example http://127.0.0.1:8333',
      );
    config.endpoint = settings.endpoint;
    // Newer SDKs add CRC checksums to every request; many S3-compatible stores reject or mishandle them.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  const region = settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) config.region = region;
  else if (settings.endpoint && !settings.profile) config.region = 'us-east-1'; // any region signs for a self-hosted store
  if (settings.profile) config.profile = settings.profile;
  if (settings.accessKeyId || settings.secretAccessKeyFile) {
    if (!settings.accessKeyId || !settings.secretAccessKeyFile)
      throw new StorageLocationError(
        location,
        's3.access_key_id and s3.secret_access_key_file go together',
        'set both, or neither to use the AWS default credential chain (environment, profile, instance role)',
      );
    config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: readSecretFile(location, settings.secretAccessKeyFile) };
  }
  return config;
}

interface AwsSdk {
  s3: typeof import('@aws-sdk/client-s3');
  Upload: typeof import('@aws-sdk/lib-storage').Upload;
}
let awsSdkLoading: Promise<AwsSdk> | undefined;

/** The AWS SDK, imported on first use: about 0.16 s of start-up that a lakehouse in local folders never needs. */
function awsSdk(): Promise<AwsSdk> {
  awsSdkLoading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({
    s3,
    Upload: storage.Upload,
  }));
  return awsSdkLoading;
}

/** One client per distinct settings per process (threads have their own), so tables share connections. */
const clients = new Map<string, Promise<S3Client>>();

async function newClient(config: S3ClientConfig): Promise<S3Client> {
  // The SDK warns on every process start that its 2027 releases will need Node 22; the lockfile pins
  // a release that supports Node 20 (package.json engines), and the warning would only confuse CLI users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { s3 } = await awsSdk();
  return new s3.S3Client(config);
}

/** The client for the settings; the settings are checked (and the secret read) now, the SDK loads in the background. */
function clientFor(location: string, settings: S3Settings): Promise<S3Client> {
  const key = JSON.stringify([
    settings.endpoint,
    settings.region,
    settings.forcePathStyle,
    settings.accessKeyId,
    settings.secretAccessKeyFile,
    settings.profile,
  ]);
  let client = clients.get(key);
  if (!client) {
    client = newClient(s3ClientConfig(location, settings));
    // A storage that is never used must not turn a failed SDK import into an unhandled rejection;
    // every request still sees the failure.
    client.catch(() => undefined);
    clients.set(key, client);
  }
  return client;
}

/** True when the store answers a signed ListBuckets within the timeout (the stack's health check). */
export async function s3Answers(settings: S3Settings, timeoutMs = 2000): Promise<boolean> {
  const client = await newClient({ ...s3ClientConfig(settings.endpoint ?? 's3', settings), maxAttempts: 1 });
  const { s3 } = await awsSdk();
  try {
    await client.send(new s3.ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** Creates the bucket unless it exists (the local stack's default bucket, test buckets). */
export async function ensureBucket(settings: S3Settings, bucket: string): Promise<void> {
  const client = await newClient(s3ClientConfig(`s3://${bucket}`, settings));
  const { s3 } = await awsSdk();
  try {
    await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(nameOf(error))) throw error;
  } finally {
    client.destroy();
  }
}

interface ErrorShape {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as ErrorShape | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(error: unknown): string {
  const shape = error as ErrorShape | undefined;
  return shape?.name ?? shape?.Code ?? shape?.code ?? 'Error';
}

function isMissing(error: unknown): boolean {
  return statusOf(error) === 404 || ['NoSuchKey', 'NotFound'].includes(nameOf(error));
}

function notFound(url: string, cause: unknown): Error {
  return Object.assign(new Error(`${url} does not exist`), { code: 'ENOENT', cause });
}

/** Outcome of the conditional-write probe of one store: 'ok', or 'read-only' when the credentials may not write at all. */
type ProbeOutcome = 'ok' | 'read-only';
const probes = new Map<string, Promise<ProbeOutcome>>();

export class S3Storage implements Storage {
  readonly location: string;
  /** ListObjectsV2 with StartAfter returns only what follows the key: the log's tail costs one request. */
  readonly listsFromStartKey = true;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: Promise<S3Client>;
  private readonly store: string;

  constructor(
    url: string,
    private readonly settings: S3Settings = {},
  ) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = `s3://${bucket}/${prefix.replace(/\/$/, '')}`.replace(/\/$/, '');
    this.client = clientFor(this.location, settings);
    this.store = `${settings.endpoint ?? 'AWS S3'} (bucket ${bucket})`;
  }

  /** The client and the SDK's commands, once both are loaded. */
  private async sdk(): Promise<{ client: S3Client; s3: AwsSdk['s3'] }> {
    return { client: await this.client, s3: (await awsSdk()).s3 };
  }

  private key(path: string): string {
    return `${this.prefix}${path}`;
  }

  private url(path: string): string {
    return `s3://${this.bucket}/${this.key(path)}`;
  }

  /** A storage error that says what was asked of which store, and what usually fixes it. */
  private failure(operation: string, path: string, error: unknown): StorageRequestError {
    const status = statusOf(error);
    const name = nameOf(error);
    const reason = (error as ErrorShape).message || name;
    const hints: Record<string, string> = {
      AccessDenied: 'the credentials may not do this: check the key, the profile or the bucket policy',
      InvalidAccessKeyId: 'the access key id is unknown to the store: check s3.access_key_id, AWS_ACCESS_KEY_ID or the profile',
      SignatureDoesNotMatch: 'the secret key does not match the key id: check s3.secret_access_key_file or AWS_SECRET_ACCESS_KEY',
      NoSuchBucket: `create the bucket ${this.bucket} first`,
      CredentialsProviderError:
        'no credentials found: set s3.access_key_id and s3.secret_access_key_file, s3.profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    };
    const unreachable = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|socket hang up/.test(String(reason));
    const hint =
      hints[name] ??
      (unreachable
        ? `nothing answers at ${this.settings.endpoint ?? 'the AWS endpoint'}: check s3.endpoint, or start it (logstream stack up s3)`
        : undefined) ??
      (/Region is missing/i.test(String(reason)) ? 'set s3.region or AWS_REGION' : undefined);
    return new StorageRequestError(
      `${operation} ${this.url(path)} on ${this.store} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${reason}`,
      {
        status,
        hint,
        cause: error,
      },
    );
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    try {
      const { client, s3 } = await this.sdk();
      const pages = s3.paginateListObjectsV2(
        { client, pageSize: 1000 },
        {
          Bucket: this.bucket,
          Prefix: this.key(prefix),
          ...(options.recursive ? {} : { Delimiter: '/' }),
          ...(options.startAfter !== undefined ? { StartAfter: this.key(options.startAfter) } : {}),
        },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (!object.Key || object.Key.endsWith('/')) continue; // folder markers some tools create
          files.push({
            path: object.Key.slice(this.prefix.length),
            sizeBytes: object.Size ?? Number.NaN,
            modifiedMs: object.LastModified?.getTime() ?? Number.NaN,
          });
        }
      }
    } catch (error) {
      throw this.failure('listing', prefix, error);
    }
    return files; // ListObjectsV2 returns keys in UTF-8 byte order, as the interface asks
  }

  async listFolders(folder: string): Promise<string[]> {
    const names: string[] = [];
    try {
      const { client, s3 } = await this.sdk();
      for await (const page of s3.paginateListObjectsV2(
        { client, pageSize: 1000 },
        { Bucket: this.bucket, Prefix: this.key(folder), Delimiter: '/' },
      )) {
        for (const common of page.CommonPrefixes ?? []) {
          if (common.Prefix) names.push(common.Prefix.slice(this.key(folder).length).replace(/\/$/, ''));
        }
      }
    } catch (error) {
      throw this.failure('listing', folder, error);
    }
    return names;
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      const { client, s3 } = await this.sdk();
      const response = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) throw notFound(this.url(path), error);
      throw this.failure('reading', path, error);
    }
  }

  async readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    try {
      const { client, s3 } = await this.sdk();
      const response = await client.send(
        new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(path), Range: `bytes=${start}-${end - 1}` }),
      );
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) throw notFound(this.url(path), error);
      throw this.failure('reading', path, error);
    }
  }

  /** PUT with If-None-Match: *; 412 means the key exists. Never overwrites. */
  private async conditionalPut(key: string, body: Uint8Array): Promise<'created' | 'exists'> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { client, s3 } = await this.sdk();
        await client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*' }));
        return 'created';
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || nameOf(error) === 'PreconditionFailed') return 'exists';
        // 409 ConditionalRequestConflict: another conditional write of the key is in flight; S3 says retry.
        if (status === 409 && attempt < 10) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
          continue;
        }
        throw error;
      }
    }
  }

  async putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> {
    await this.verify();
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let outcome: 'created' | 'exists';
    try {
      outcome = await this.conditionalPut(this.key(path), body);
    } catch (error) {
      throw this.failure('committing', path, error);
    }
    if (outcome === 'created') return true;
    // A 412 can also answer the SDK's retry of our own PUT whose first response was lost: then the
    // object is byte for byte ours (every commit carries a unique commitInfo.txnId) and we won.
    const existing = await this.read(path).catch(() => undefined);
    return existing !== undefined && Buffer.compare(Buffer.from(existing), Buffer.from(body)) === 0;
  }

  async put(path: string, data: Uint8Array | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const threshold = this.settings.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD;
    try {
      if (body.length < threshold) {
        const { client, s3 } = await this.sdk();
        await client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: body }));
        return;
      }
      // S3 objects appear whole when the upload completes, so no temp name is needed; a failed upload is aborted.
      const { Upload } = await awsSdk();
      const upload = new Upload({
        client: await this.client,
        params: { Bucket: this.bucket, Key: this.key(path), Body: body },
        partSize: Math.max(MINIMUM_PART_SIZE, this.settings.multipartPartBytes ?? DEFAULT_PART_SIZE),
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      throw this.failure('writing', path, error);
    }
  }

  async delete(path: string): Promise<void> {
    try {
      const { client, s3 } = await this.sdk();
      await client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
    } catch (error) {
      if (isMissing(error)) return;
      throw this.failure('deleting', path, error);
    }
  }

  async stat(path: string): Promise<StoredFile | undefined> {
    try {
      const { client, s3 } = await this.sdk();
      const head = await client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return { path, sizeBytes: head.ContentLength ?? Number.NaN, modifiedMs: head.LastModified?.getTime() ?? Number.NaN };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure('looking up', path, error);
    }
  }

  /**
   * Writes a probe object twice with If-None-Match: *; the second PUT must be refused with 412.
   * Once per endpoint and bucket per process (a failed probe is tried again next time).
   */
  verify(): Promise<void> {
    const key = `${this.settings.endpoint ?? 'aws'}|${this.settings.region ?? ''}|${this.bucket}`;
    let probe = probes.get(key);
    if (!probe) {
      probe = this.probe();
      probes.set(key, probe);
      probe.catch(() => probes.delete(key));
    }
    return probe.then(() => undefined);
  }

  private async probe(): Promise<ProbeOutcome> {
    // Under the table's log, named like the temp files log cleanup removes, in case we die before deleting it.
    const path = `_delta_log/.tmp-probe-${randomUUID()}`;
    const body = Buffer.from('logstream conditional-write probe\n');
    try {
      let first: 'created' | 'exists';
      try {
        first = await this.conditionalPut(this.key(path), body);
      } catch (error) {
        if (nameOf(error) === 'AccessDenied' || statusOf(error) === 403) return 'read-only'; // nothing can be written, so nothing can be overwritten
        const status = statusOf(error);
        if (status === 501 || status === 400)
          throw new ConditionalWriteUnsupportedError(
            this.store,
            `a PUT with If-None-Match: * was rejected: ${nameOf(error)} (HTTP ${status})`,
          );
        throw this.failure('probing conditional writes at', path, error);
      }
      if (first === 'exists')
        throw new ConditionalWriteUnsupportedError(this.store, 'a PUT of a new key was refused as if the key existed');
      let second: 'created' | 'exists';
      try {
        second = await this.conditionalPut(this.key(path), body);
      } catch (error) {
        throw this.failure('probing conditional writes at', path, error);
      }
      if (second === 'created')
        throw new ConditionalWriteUnsupportedError(this.store, 'a second PUT of the same key succeeded instead of failing with 412');
      return 'ok';
    } finally {
      await this.delete(path).catch(() => undefined);
    }
  }
}
