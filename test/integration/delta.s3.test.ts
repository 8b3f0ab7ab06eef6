// Delta tables on S3: the local stack's SeaweedFS keeps conditional writes under processes racing
// the same keys; a store that ignores If-None-Match is refused (a tiny in-test HTTP store stands for
// one: a fixture playing a broken server, not a stand-in for S3 in our code paths); multipart
// uploads, ranged Parquet reads and `logstream table info s3://…` against the real store.
// Run with S3_RACER_TASK=<json> this file is one racing process instead of defining tests.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConditionalWriteUnsupportedError, DeltaTable, S3Storage, type S3Settings, type Storage } from '../../clients/delta/index.js';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { logSchema, makeLogTable } from '../helpers/deltalake.js';
import { s3Case } from '../helpers/storages.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** execFile as a promise of { status, stdout, stderr }, never rejecting on a non-zero exit. */
function runAsync(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    execFile(command, args, { ...options, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

interface RacerTask {
  prefix: string;
  racer: number;
  keys: number;
  settings: S3Settings;
}

/** One racing process: waits for "go" on stdin, then putIfAbsent()s every key at once, and prints the keys it won. */
async function race(task: RacerTask): Promise<void> {
  const storage = new S3Storage(task.prefix, task.settings);
  await storage.verify();
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const won: number[] = [];
  await Promise.all(
    Array.from({ length: task.keys }, async (_, key) => {
      if (await storage.putIfAbsent(`race/${key}`, `racer ${task.racer}\n`)) won.push(key);
    }),
  );
  process.stdout.write(`${JSON.stringify(won)}\n`);
}

const racerTask = process.env.S3_RACER_TASK;
if (racerTask) await race(JSON.parse(racerTask) as RacerTask);
else defineTests();

/** An S3 endpoint that stores objects in memory and, unless `honest`, ignores If-None-Match like an old store. */
function fakeStore(honest: boolean): Promise<{ server: Server; endpoint: string; objects: Map<string, Buffer>; puts: string[] }> {
  const objects = new Map<string, Buffer>();
  const puts: string[] = [];
  const body = (request: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks)));
    });
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    const key = decodeURIComponent(url.pathname.slice(1)); // path style: bucket/key
    if (request.method === 'PUT') {
      const data = await body(request);
      puts.push(key);
      if (honest && request.headers['if-none-match'] === '*' && objects.has(key)) {
        response.writeHead(412, { 'content-type': 'application/xml' });
        response.end('<Error><Code>PreconditionFailed</Code><Message>At least one of the preconditions failed</Message></Error>');
        return;
      }
      objects.set(key, data);
      response.writeHead(200, { etag: '"x"' });
      response.end();
      return;
    }
    if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const bucket = key.replace(/\/$/, '');
      const prefix = `${bucket}/${url.searchParams.get('prefix') ?? ''}`;
      const keys = [...objects.keys()].filter((candidate) => candidate.startsWith(prefix)).sort();
      const contents = keys
        .map(
          (candidate) =>
            `<Contents><Key>${candidate.slice(bucket.length + 1)}</Key><Size>${objects.get(candidate)!.length}</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>`,
        )
        .join('');
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        `<ListBucketResult><Name>${bucket}</Name><IsTruncated>false</IsTruncated><KeyCount>${keys.length}</KeyCount>${contents}</ListBucketResult>`,
      );
      return;
    }
    if (request.method === 'GET' || request.method === 'HEAD') {
      const data = objects.get(key);
      if (!data) {
        response.writeHead(404, { 'content-type': 'application/xml' });
        response.end(request.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>not found</Message></Error>');
        return;
      }
      response.writeHead(200, { 'content-length': data.length, 'last-modified': new Date(0).toUTCString() });
      response.end(request.method === 'HEAD' ? undefined : data);
      return;
    }
    if (request.method === 'DELETE') {
      objects.delete(key);
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(501);
    response.end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, objects, puts });
    }),
  );
}

const fakeSettings = (endpoint: string): S3Settings => ({
  endpoint,
  forcePathStyle: true,
  region: 'us-east-1',
  accessKeyId: 'test',
  secretAccessKeyFile: s3Case.options.s3!.secretAccessKeyFile!, // any secret signs for the fake store
});

/** Commit 0 of a small table, as the fake store holds it (written by another engine). */
function seedTable(objects: Map<string, Buffer>, key: string): void {
  const actions = [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: 'seeded',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] }),
        partitionColumns: [],
        configuration: {},
        createdTime: 0,
      },
    },
  ];
  objects.set(
    `${key}/_delta_log/00000000000000000000.json`,
    Buffer.from(`${actions.map((action) => JSON.stringify(action)).join('\n')}\n`),
  );
}

function defineTests(): void {
  describe('conditional writes of the stack S3 store (SeaweedFS)', () => {
    before(() => s3Case.ready());

    it('6 processes racing the same 40 keys: exactly one putIfAbsent wins each key, and the object is the winner', {
      timeout: 120_000,
    }, async () => {
      const prefix = s3Case.scratch('race');
      const self = fileURLToPath(import.meta.url);
      const racers = Array.from({ length: 6 }, (_, racer) => {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          S3_RACER_TASK: JSON.stringify({ prefix, racer, keys: 40, settings: s3Case.options.s3! } satisfies RacerTask),
        };
        delete env.NODE_TEST_CONTEXT;
        const child = spawn(process.execPath, ['--import', 'tsx', self], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        const ready = new Promise<void>((resolve) =>
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.startsWith('ready\n')) resolve();
          }),
        );
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        const done = new Promise<number[]>((resolve, reject) =>
          child.on('close', (code) =>
            code === 0 ? resolve(JSON.parse(out.split('\n')[1]!) as number[]) : reject(new Error(`racer ${racer}: ${err}`)),
          ),
        );
        return { child, ready, done };
      });
      await Promise.all(racers.map((racer) => racer.ready));
      for (const racer of racers) racer.child.stdin.end('go\n');
      const won = await Promise.all(racers.map((racer) => racer.done));
      const storage = new S3Storage(prefix, s3Case.options.s3);
      for (let key = 0; key < 40; key++) {
        const winners = won.flatMap((keys, racer) => (keys.includes(key) ? [racer] : []));
        assert.equal(winners.length, 1, `key ${key} won by ${JSON.stringify(winners)}`);
        assert.equal(new TextDecoder().decode(await storage.read(`race/${key}`)), `racer ${winners[0]}\n`);
      }
    });
  });

  describe('a store that ignores If-None-Match', () => {
    let store: Awaited<ReturnType<typeof fakeStore>>;
    before(async () => {
      store = await fakeStore(false);
    });
    after(() => {
      store.server.closeAllConnections(); // the SDK keeps sockets alive; close() alone would wait for them
      store.server.close();
    });

    it('is refused when a table is created or opened, and by `logstream table info`, with a clear message', async () => {
      const settings = fakeSettings(store.endpoint);
      await assert.rejects(
        DeltaTable.create('s3://lake/new', logSchema, {}, { s3: settings }),
        (error: Error) => error instanceof ConditionalWriteUnsupportedError && /a second PUT of the same key succeeded/.test(error.message),
      );
      assert.equal(store.objects.has('lake/new/_delta_log/00000000000000000000.json'), false, 'no commit was written');
      seedTable(store.objects, 'lake/seeded');
      await assert.rejects(DeltaTable.open('s3://lake/seeded', { s3: settings }), ConditionalWriteUnsupportedError);
      // Not spawnSync: the fake store answers on this process's event loop.
      const cli = await runAsync(process.execPath, ['bin/logstream.js', 'table', 'info', 's3://lake/seeded'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          LOGSTREAM_S3_ENDPOINT: store.endpoint,
          LOGSTREAM_S3_FORCE_PATH_STYLE: 'true',
          LOGSTREAM_S3_ACCESS_KEY_ID: settings.accessKeyId!,
          LOGSTREAM_S3_SECRET_ACCESS_KEY_FILE: settings.secretAccessKeyFile!,
        },
      });
      assert.equal(cli.status, 1, cli.stderr);
      assert.match(cli.stderr, /does not honour conditional writes \(If-None-Match: \*\)/);
      assert.doesNotMatch(cli.stderr, /at .*\.ts:\d+/, 'one message, no stack trace');
      assert.ok(![...store.objects.keys()].some((key) => key.includes('.tmp-probe-')), 'the probe objects are deleted');
    });
  });

  describe('the conditional-write probe', () => {
    it('runs once per endpoint and bucket in a process, and lets tables of an honest store open', async () => {
      const store = await fakeStore(true);
      try {
        const settings = fakeSettings(store.endpoint);
        seedTable(store.objects, 'lake/a');
        seedTable(store.objects, 'lake/b');
        await DeltaTable.open('s3://lake/a', { s3: settings });
        await DeltaTable.open('s3://lake/b', { s3: settings });
        await DeltaTable.open('s3://lake/a', { s3: settings });
        assert.equal(store.puts.filter((key) => key.includes('.tmp-probe-')).length, 2, 'one probe: two PUTs of one key');
      } finally {
        store.server.closeAllConnections();
        store.server.close();
      }
    });
  });

  describe('large files on the stack S3 store', () => {
    before(() => s3Case.ready());

    it('uploads files past the multipart threshold in parts and reads them back whole and in ranges', async () => {
      const storage = new S3Storage(s3Case.scratch('multipart'), {
        ...s3Case.options.s3,
        multipartThresholdBytes: 6 * 1024 * 1024,
        multipartPartBytes: 5 * 1024 * 1024,
      });
      const data = randomBytes(13 * 1024 * 1024);
      await storage.put('big.bin', data);
      assert.equal((await storage.stat('big.bin'))?.sizeBytes, data.length);
      assert.equal(Buffer.compare(Buffer.from(await storage.read('big.bin')), data), 0);
      assert.equal(
        Buffer.compare(Buffer.from(await storage.readRange('big.bin', 5_000_000, 5_000_100)), data.subarray(5_000_000, 5_000_100)),
        0,
      );
    });

    it('reads only the wanted column chunks of a large data file, with the same rows as a whole read', { timeout: 120_000 }, async () => {
      const path = s3Case.scratch('ranged');
      const table = await DeltaTable.create(path, logSchema, {}, s3Case.options);
      await table.append(makeLogTable(500_000, { stepMicros: 1000n }), { txns: [] });
      const snapshot = await table.snapshot();
      const [file] = snapshot.files();
      assert.ok(Number(file!.size) >= 8 * 1024 * 1024, `a data file of ${file!.size} bytes is large enough for ranged reads`);
      const counted = countingStorage(table.storage);
      const ranged = await (await DeltaTable.open(path, { ...s3Case.options, storage: counted.storage })).snapshot();
      const columns = ['kafka_offset', 'status'];
      const projected = tableToJsonRows(await ranged.scan({ columns }));
      assert.equal(counted.wholeReads, 0, 'the data file was not read whole');
      assert.ok(counted.rangeBytes < Number(file!.size) / 2, `${counted.rangeBytes} of ${file!.size} bytes fetched`);
      assert.deepEqual(projected, tableToJsonRows((await snapshot.scan()).select(columns)));
    });
  });

  describe('logstream table on s3://', () => {
    before(() => s3Case.ready());

    it('prints info JSON and rows of a table in the stack S3 store', async () => {
      const path = s3Case.scratch('cli');
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, s3Case.options);
      await table.append(makeLogTable(300), { txns: [{ appId: 'web-logs-0', version: 299 }] });
      const run = (...args: string[]) =>
        spawnSync(process.execPath, ['bin/logstream.js', 'table', ...args], {
          cwd: repoRoot,
          encoding: 'utf8',
          env: { ...process.env, ...s3Case.env },
        });
      const info = run('info', path, '--json');
      assert.equal(info.status, 0, info.stderr);
      const parsed = JSON.parse(info.stdout);
      assert.equal(parsed.path, path);
      assert.equal(parsed.rowCount, 300);
      assert.deepEqual(parsed.txnVersions, { 'web-logs-0': 299 });
      assert.equal(info.stderr, '', 'nothing on stderr (no SDK warnings)');
      const rows = run('rows', path, '--where', 'kafka_offset < 3', '--columns', 'kafka_offset', '--format', 'csv');
      assert.equal(rows.stdout, 'kafka_offset\r\n0\r\n1\r\n2\r\n');
      const missing = run('info', `${path}-absent`);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /no Delta table at s3:\/\//);
    });
  });
}

/** Wraps a Storage to count whole reads and bytes read in ranges (of data files). */
function countingStorage(inner: Storage): { storage: Storage; readonly wholeReads: number; readonly rangeBytes: number } {
  const counts = { wholeReads: 0, rangeBytes: 0 };
  const storage: Storage = Object.assign(Object.create(inner) as Storage, {
    read: async (path: string) => {
      if (path.endsWith('.parquet') && !path.startsWith('_delta_log/')) counts.wholeReads++;
      return inner.read(path);
    },
    readRange: async (path: string, start: number, end: number) => {
      counts.rangeBytes += end - start;
      return inner.readRange(path, start, end);
    },
  });
  return {
    storage,
    get wholeReads() {
      return counts.wholeReads;
    },
    get rangeBytes() {
      return counts.rangeBytes;
    },
  };
}
