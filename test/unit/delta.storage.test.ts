// Table locations and the storage contract without a server: s3:// parsing, tablePath, storage
// selection, S3 client settings (secrets only from files), and LocalStorage listing from a start key.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DeltaTable,
  LocalStorage,
  S3Storage,
  StorageLocationError,
  openStorage,
  parseS3Url,
  s3SettingsFromConfig,
  tablePath,
} from '../../clients/delta/index.js';
import { listLog } from '../../clients/delta/log.js';
import { s3ClientConfig } from '../../clients/delta/s3Storage.js';
import { configSchema } from '../../config/schema.js';
import { logSchema, makeLogTable } from '../helpers/deltalake.js';

describe('table locations', () => {
  it('parses s3:// and s3a:// URLs into a bucket and a key prefix', () => {
    assert.deepEqual(parseS3Url('s3://lake/prefix/logs'), { bucket: 'lake', prefix: 'prefix/logs/' });
    assert.deepEqual(parseS3Url('s3a://lake/logs/'), { bucket: 'lake', prefix: 'logs/' });
    assert.deepEqual(parseS3Url('s3://lake'), { bucket: 'lake', prefix: '' });
    assert.throws(() => parseS3Url('s3://Bad_Bucket/x'), StorageLocationError);
    assert.throws(() => parseS3Url('s3://lake/a//b'), /empty, "\." or "\.\." segment/);
  });

  it('joins table names onto folder and URL roots', () => {
    assert.equal(tablePath('s3://lake/root/', 'logs'), 's3://lake/root/logs');
    assert.equal(tablePath('s3://lake', 'logs'), 's3://lake/logs');
    assert.equal(tablePath('/data/lakehouse', 'metrics_1m'), '/data/lakehouse/metrics_1m');
  });

  it('picks the storage from the path and refuses unknown schemes with exit code 2', () => {
    assert.ok(openStorage('/tmp/x') instanceof LocalStorage);
    assert.ok(openStorage('file:///tmp/x') instanceof LocalStorage);
    const s3 = openStorage('s3://lake/a/b', { s3: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1' } });
    assert.ok(s3 instanceof S3Storage);
    assert.equal(s3.location, 's3://lake/a/b');
    assert.throws(
      () => openStorage('gs://bucket/t'),
      (error: Error) =>
        error instanceof StorageLocationError && error.exitCode === 2 && /"gs:\/\/" locations are not supported/.test(error.message),
    );
  });
});

describe('S3 settings', () => {
  it('take the secret key only from the file named in the configuration, never from the configuration itself', () => {
    const secretFile = join(mkdtempSync(join(tmpdir(), 'logstream-s3-')), 'secret');
    writeFileSync(secretFile, 'very-secret\n');
    const section = configSchema.shape.s3.parse({
      endpoint: 'http://127.0.0.1:8333',
      force_path_style: true,
      access_key_id: 'key',
      secret_access_key_file: secretFile,
    });
    assert.throws(() => configSchema.shape.s3.parse({ secret_access_key: 'x' }), /secret_access_key/);
    const settings = s3SettingsFromConfig(section);
    assert.ok(!JSON.stringify(settings).includes('very-secret'), 'the settings (which cross to the writer thread) hold no secret');
    const config = s3ClientConfig('s3://lake', settings, {});
    assert.deepEqual(config.credentials, { accessKeyId: 'key', secretAccessKey: 'very-secret' });
    assert.equal(config.region, 'us-east-1', 'a custom endpoint signs for us-east-1 when no region is set');
    assert.equal(config.forcePathStyle, true);
    assert.equal(config.requestChecksumCalculation, 'WHEN_REQUIRED');
  });

  it('leave credentials to the AWS default chain when no key or profile is set, and refuse half a key pair', () => {
    const config = s3ClientConfig('s3://lake', {}, { AWS_REGION: 'eu-west-1' });
    assert.equal(config.credentials, undefined);
    assert.equal(config.endpoint, undefined);
    assert.equal(config.region, 'eu-west-1');
    assert.equal(s3ClientConfig('s3://lake', { profile: 'prod' }, {}).profile, 'prod');
    assert.throws(() => s3ClientConfig('s3://lake', { accessKeyId: 'key' }, {}), /go together/);
    assert.throws(
      () => s3ClientConfig('s3://lake', { accessKeyId: 'key', secretAccessKeyFile: '/nonexistent/secret' }, {}),
      /cannot read the secret access key from \/nonexistent\/secret/,
    );
  });
});

describe('listing the log from a version', () => {
  it('lists only the files after a start key, so the latest snapshot reads the log from its checkpoint', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'logstream-list-')), 'logs');
    const table = await DeltaTable.create(path, logSchema, {}, { checkpointInterval: 5 });
    for (let batch = 0; batch < 7; batch++) await table.append(makeLogTable(5, { firstOffset: batch * 5 }));
    const storage = new LocalStorage(path);
    const tail = await listLog(storage, { fromVersion: 5 });
    assert.deepEqual(
      tail.commits.map((commit) => commit.version),
      [5, 6, 7],
    );
    assert.deepEqual(
      tail.checkpoints.map((checkpoint) => checkpoint.version),
      [5],
    );
    const after = await storage.list('_delta_log/', { startAfter: '_delta_log/00000000000000000006.json' });
    assert.deepEqual(
      after.map((file) => file.path),
      ['_delta_log/00000000000000000007.json', '_delta_log/_last_checkpoint'],
    );
    const snapshot = await (await DeltaTable.open(path)).snapshot();
    assert.equal(snapshot.version, 7);
    assert.equal(snapshot.numRows, 35);
    assert.equal((await table.snapshot({ version: 2 })).numRows, 10, 'an older version lists the whole log');
  });
});
