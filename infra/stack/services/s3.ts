// SeaweedFS's S3 gateway, optional (`logstream stack up s3`): a real S3-compatible store with
// conditional writes (If-None-Match: *) for Delta tables on object storage. Built from the Go
// module proxy (`go build` of the module's source: its go.mod has a replace directive, so `go
// install …@version` is refused) and run as one `weed server` process (master, volume, filer and
// S3 gateway) on 127.0.0.1. Credentials are a local key pair generated into the state folder.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBucket, s3Answers, type S3Settings } from '../../../clients/delta/s3Storage.js';
import type { PipelineConfig } from '../../../config/schema.js';
import { installAtomically, runInstallCommand } from '../install.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';

/** The pseudo-version the Go module proxy serves here (a recent main; SeaweedFS tags are not module versions). */
export const SEAWEEDFS_VERSION = 'v0.0.0-20261109003541-7506e5f91cd6';
const MODULE = 'github.com/seaweedfs/seaweedfs';

/** Fixed local ports: the S3 API on SeaweedFS's usual 8333, its master, volume and filer next to it (gRPC on port + 10000). */
export const S3_PORTS = { s3: 8333, master: 8334, volume: 8335, filer: 8336 } as const;
export const S3_LOCAL_ENDPOINT = `http://127.0.0.1:${S3_PORTS.s3}`;
/** The key id of the local store; its secret is generated at first start into s3LocalSecretFile(). */
export const S3_LOCAL_ACCESS_KEY_ID = 'logstream-local';
/** Created when the service starts, so `delta.root: s3://logstream/…` works at once. */
export const S3_LOCAL_BUCKET = 'logstream';

function binary(paths: StackPaths): string {
  return join(paths.cacheDir, 's3', 'bin', 'weed');
}

/** File holding the local store's secret access key (what s3.secret_access_key_file names for the local stack). */
export function s3LocalSecretFile(stateDir: string): string {
  return join(stateDir, 's3', 'secret_access_key');
}

/** The local store's settings for clients/delta (endpoint, path-style, the generated key pair). */
export function s3LocalSettings(
  stateDir: string,
): Required<Pick<S3Settings, 'endpoint' | 'region' | 'forcePathStyle' | 'accessKeyId' | 'secretAccessKeyFile'>> {
  return {
    endpoint: S3_LOCAL_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: S3_LOCAL_ACCESS_KEY_ID,
    secretAccessKeyFile: s3LocalSecretFile(stateDir),
  };
}

/** Creates a bucket of the local store unless it exists. */
export async function ensureLocalBucket(stateDir: string, bucket: string): Promise<void> {
  await ensureBucket(s3LocalSettings(stateDir), bucket);
}

export const s3Service: ServiceSpec = {
  name: 's3',
  description: 'SeaweedFS S3 gateway (optional; Delta tables on object storage)',
  optional: true,
  // weed server (one node) does not finish stopping on SIGTERM: its parts wait for each other; data is synced per write.
  stopGraceSeconds: 10,
  toolchains: [
    { command: 'go', fix: 'install Go 1.26 or later (https://go.dev/doc/install, or apt-get install golang) and put it on PATH' },
  ],
  ports: () => [S3_PORTS.s3, S3_PORTS.master, S3_PORTS.volume, S3_PORTS.filer].flatMap((port) => [port, port + 10_000]),
  url: () => S3_LOCAL_ENDPOINT,
  installDir: (paths) => join(paths.cacheDir, 's3'),
  isInstalled: (paths) =>
    existsSync(binary(paths)) &&
    existsSync(join(paths.cacheDir, 's3', 'VERSION')) &&
    readFileSync(join(paths.cacheDir, 's3', 'VERSION'), 'utf8').trim() === SEAWEEDFS_VERSION,
  async install(paths, log) {
    log(`building ${MODULE}/weed@${SEAWEEDFS_VERSION} from the Go module proxy (10-20 minutes on a cold Go cache)`);
    await installAtomically(this.installDir(paths), async (stagingDir) => {
      const env = { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
      let moduleDir = '';
      await runInstallCommand('s3', 'go', ['mod', 'download', '-json', `${MODULE}@${SEAWEEDFS_VERSION}`], {
        env,
        onLine: (line) => {
          const match = /"Dir":\s*"([^"]+)"/.exec(line);
          if (match) moduleDir = match[1]!;
        },
      });
      if (!moduleDir) throw new Error(`go mod download did not name the folder of ${MODULE}@${SEAWEEDFS_VERSION}`);
      // The module cache is read-only; build in a writable copy (go may add to go.sum).
      const source = join(stagingDir, 'src');
      cpSync(moduleDir, source, { recursive: true });
      await runInstallCommand('s3', 'chmod', ['-R', 'u+w', source]);
      let downloads = 0;
      await runInstallCommand('s3', 'go', ['build', '-o', join(stagingDir, 'bin', 'weed'), './weed'], {
        cwd: source,
        env,
        onLine: (line) => {
          if (!line.startsWith('go: downloading')) return;
          downloads += 1;
          if (downloads === 1 || downloads % 50 === 0) log(`${line.slice(4)} (module ${downloads})`);
        },
      });
      rmSync(source, { recursive: true, force: true });
      writeFileSync(join(stagingDir, 'VERSION'), `${SEAWEEDFS_VERSION}\n`);
    });
    log(`installed ${binary(paths)}`);
  },
  async prepareStart(paths, _config: PipelineConfig, dataDir): Promise<StartCommand> {
    mkdirSync(join(dataDir, 'data'), { recursive: true });
    const secretFile = s3LocalSecretFile(paths.stateDir);
    if (!existsSync(secretFile)) writeFileSync(secretFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    const secret = readFileSync(secretFile, 'utf8').trim();
    const identities = join(dataDir, 's3-identities.json');
    writeFileSync(
      identities,
      JSON.stringify({
        identities: [
          {
            name: S3_LOCAL_ACCESS_KEY_ID,
            credentials: [{ accessKey: S3_LOCAL_ACCESS_KEY_ID, secretKey: secret }],
            actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
          },
        ],
      }),
      { mode: 0o600 },
    );
    return {
      command: binary(paths),
      args: [
        'server',
        '-ip=127.0.0.1',
        '-ip.bind=127.0.0.1',
        `-dir=${join(dataDir, 'data')}`,
        `-master.port=${S3_PORTS.master}`,
        '-master.telemetry=false',
        '-master.volumeSizeLimitMB=1024',
        `-volume.port=${S3_PORTS.volume}`,
        '-volume.max=0',
        // One node: no peers to tell before stopping (the default waits 10 s on SIGTERM).
        '-volume.preStopSeconds=1',
        '-filer',
        `-filer.port=${S3_PORTS.filer}`,
        '-s3',
        `-s3.port=${S3_PORTS.s3}`,
        `-s3.config=${identities}`,
        '-s3.port.iceberg=0',
        '-s3.port.lance=0',
      ],
      cwd: dataDir,
    };
  },
  async healthy(config) {
    // A signed ListBuckets with the local key answers only when the gateway, its filer and master are up.
    return existsSync(s3LocalSecretFile(config.stack.state_dir)) && s3Answers(s3LocalSettings(config.stack.state_dir));
  },
  async afterStart(paths) {
    await ensureLocalBucket(paths.stateDir, S3_LOCAL_BUCKET);
  },
  version(paths) {
    const file = join(paths.cacheDir, 's3', 'VERSION');
    return existsSync(file) ? `seaweedfs ${readFileSync(file, 'utf8').trim()}` : '-';
  },
};
