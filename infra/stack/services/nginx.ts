// nginx from the Debian package as the stack's TLS and authentication fronts (optional, for the
// auth tests): OpenSearch with basic auth, Elasticsearch with an API key or basic auth, Temporal's
// gRPC frontend with client certificates or an API key, and MLflow's basic-auth instance over TLS.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { PipelineConfig } from '../../../config/schema.js';
import { ensureStackTls, existingStackCredential, stackCredential, stackCredentialFile, stackTlsFiles } from '../credentials.js';
import { installDebianPackage } from '../debianPackage.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';
import { renderTemplate } from '../template.js';
import { MLFLOW_AUTH_PORT } from './mlflowAuth.js';

const NGINX = '/usr/sbin/nginx';

/** The fronts' ports, next to the ports of the services behind them. */
export const NGINX_PORTS = {
  opensearch: 9243,
  elasticsearch: 9244,
  temporalMutualTls: 7240,
  temporalApiKey: 7241,
  mlflow: 5443,
} as const;

/** The user of the search fronts' basic auth. */
export const SEARCH_STACK_USER = 'logstream';
/** Elasticsearch API keys are base64("id:key"); this is the id of the stack's key. */
const API_KEY_ID = 'logstream-stack';

const credentialNames = {
  searchPassword: 'search-password',
  elasticsearchApiKey: 'elasticsearch-api-key',
  temporalApiKey: 'temporal-api-key',
} as const;

export interface NginxFronts {
  opensearchUrl: string;
  elasticsearchUrl: string;
  temporalMutualTlsAddress: string;
  temporalApiKeyAddress: string;
  mlflowUrl: string;
  searchUsername: string;
  /** Files holding the credentials the fronts accept (tests refer to them as ${file:…}). */
  searchPasswordFile: string;
  elasticsearchApiKeyFile: string;
  temporalApiKeyFile: string;
}

export function nginxFronts(config: PipelineConfig): NginxFronts {
  const state = config.stack.state_dir;
  return {
    opensearchUrl: `https://127.0.0.1:${NGINX_PORTS.opensearch}`,
    elasticsearchUrl: `https://127.0.0.1:${NGINX_PORTS.elasticsearch}`,
    temporalMutualTlsAddress: `127.0.0.1:${NGINX_PORTS.temporalMutualTls}`,
    temporalApiKeyAddress: `127.0.0.1:${NGINX_PORTS.temporalApiKey}`,
    mlflowUrl: `https://127.0.0.1:${NGINX_PORTS.mlflow}`,
    searchUsername: SEARCH_STACK_USER,
    searchPasswordFile: stackCredentialFile(state, credentialNames.searchPassword),
    elasticsearchApiKeyFile: stackCredentialFile(state, credentialNames.elasticsearchApiKey),
    temporalApiKeyFile: stackCredentialFile(state, credentialNames.temporalApiKey),
  };
}

interface FrontSecrets {
  searchPassword: string;
  elasticsearchApiKey: string;
  temporalApiKey: string;
}

function generateSecrets(stateDir: string): FrontSecrets {
  return {
    searchPassword: stackCredential(stateDir, credentialNames.searchPassword).value,
    elasticsearchApiKey: stackCredential(stateDir, credentialNames.elasticsearchApiKey, () =>
      Buffer.from(`${API_KEY_ID}:${randomBytes(18).toString('base64url')}`).toString('base64'),
    ).value,
    temporalApiKey: stackCredential(stateDir, credentialNames.temporalApiKey).value,
  };
}

function existingSecrets(stateDir: string): FrontSecrets | undefined {
  const searchPassword = existingStackCredential(stateDir, credentialNames.searchPassword);
  const elasticsearchApiKey = existingStackCredential(stateDir, credentialNames.elasticsearchApiKey);
  const temporalApiKey = existingStackCredential(stateDir, credentialNames.temporalApiKey);
  if (!searchPassword || !elasticsearchApiKey || !temporalApiKey) return undefined;
  return { searchPassword, elasticsearchApiKey, temporalApiKey };
}

/** An htpasswd line in nginx's salted-SHA1 scheme ({SSHA}), so no htpasswd tool is needed. */
export function htpasswdLine(user: string, password: string, salt = randomBytes(8)): string {
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `${user}:{SSHA}${Buffer.concat([digest, salt]).toString('base64')}\n`;
}

/** The nginx.conf of the fronts (pure apart from reading the template). */
export function renderNginxConf(
  paths: StackPaths,
  config: PipelineConfig,
  dataDir: string,
  secrets: FrontSecrets,
  runAsRoot: boolean,
): string {
  const template = readFileSync(join(paths.infraDir, 'nginx', 'nginx.conf'), 'utf8');
  return renderTemplate(template, {
    // A master running as root hands requests to workers of another user, who could not read
    // the htpasswd file in a private state folder.
    USER_DIRECTIVE: runAsRoot ? 'user root;' : '',
    STATE: dataDir,
    TLS_DIR: stackTlsFiles(paths.stateDir).dir,
    ELASTICSEARCH_API_KEY: secrets.elasticsearchApiKey,
    SEARCH_BASIC: Buffer.from(`${SEARCH_STACK_USER}:${secrets.searchPassword}`).toString('base64'),
    TEMPORAL_API_KEY: secrets.temporalApiKey,
    OPENSEARCH_PORT: String(NGINX_PORTS.opensearch),
    ELASTICSEARCH_PORT: String(NGINX_PORTS.elasticsearch),
    TEMPORAL_MTLS_PORT: String(NGINX_PORTS.temporalMutualTls),
    TEMPORAL_API_KEY_PORT: String(NGINX_PORTS.temporalApiKey),
    MLFLOW_PORT: String(NGINX_PORTS.mlflow),
    OPENSEARCH_UPSTREAM: '127.0.0.1:9200',
    ELASTICSEARCH_UPSTREAM: '127.0.0.1:9201',
    TEMPORAL_UPSTREAM: config.temporal.address,
    MLFLOW_UPSTREAM: `127.0.0.1:${MLFLOW_AUTH_PORT}`,
  });
}

const runsAsRoot = () => process.getuid?.() === 0;

/** True when nginx answers on the OpenSearch front with its own 401 over TLS verified with the stack CA. */
function answersWithTls(port: number, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const call = request({ host: '127.0.0.1', port, path: '/', method: 'GET', ca, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 401 && /nginx/.test(String(response.headers.server ?? '')));
    });
    call.once('timeout', () => call.destroy());
    call.once('error', () => resolve(false));
    call.end();
  });
}

export const nginxService: ServiceSpec = {
  name: 'nginx',
  description: 'nginx TLS and authentication fronts of the stack services, for the auth tests (Debian package)',
  optional: true,
  processStackOnly: true,
  toolchains: [{ command: 'openssl', fix: 'install OpenSSL (apt-get install openssl); it makes the certificates' }],
  ports: () => Object.values(NGINX_PORTS),
  url: () =>
    `https://127.0.0.1:${NGINX_PORTS.opensearch} (+${NGINX_PORTS.elasticsearch}, ${NGINX_PORTS.mlflow}; gRPC ${NGINX_PORTS.temporalMutualTls}, ${NGINX_PORTS.temporalApiKey})`,
  installDir: () => '/usr/sbin',
  isInstalled: () => existsSync(NGINX),
  install: (_paths, log) =>
    installDebianPackage(
      {
        service: 'nginx',
        packageName: 'nginx',
        otherwise: 'install nginx 1.18 or later with the http_v2, ssl and grpc modules so that /usr/sbin/nginx exists',
      },
      log,
    ),

  async prepareStart(paths, config, dataDir): Promise<StartCommand> {
    for (const folder of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dataDir, 'tmp', folder), { recursive: true });
    await ensureStackTls(paths.stateDir);
    const secrets = generateSecrets(paths.stateDir);
    writeFileSync(join(dataDir, 'htpasswd'), htpasswdLine(SEARCH_STACK_USER, secrets.searchPassword), { mode: 0o600 });
    const configFile = join(dataDir, 'nginx.conf');
    writeFileSync(configFile, renderNginxConf(paths, config, dataDir, secrets, runsAsRoot()), { mode: 0o600 });
    // -e: the log nginx writes before it has read its configuration (the default path may not be writable).
    const args = ['-e', 'stderr', '-p', dataDir, '-c', configFile];
    return { command: NGINX, args, cwd: dataDir, processTitle: `nginx: master process ${[NGINX, ...args].join(' ')}` };
  },
  outdated(paths, config, dataDir) {
    const file = join(dataDir, 'nginx.conf');
    const secrets = existingSecrets(paths.stateDir);
    if (!existsSync(file) || !secrets) return undefined;
    return readFileSync(file, 'utf8') === renderNginxConf(paths, config, dataDir, secrets, runsAsRoot())
      ? undefined
      : 'infra/nginx/nginx.conf or the addresses behind it changed since it started';
  },
  async healthy(config) {
    const ca = stackTlsFiles(config.stack.state_dir).ca;
    if (!existsSync(ca)) return false;
    return answersWithTls(NGINX_PORTS.opensearch, readFileSync(ca));
  },
  version() {
    if (!existsSync(NGINX)) return '-';
    // nginx -v prints "nginx version: nginx/1.22.1" on stderr.
    const result = spawnSync(NGINX, ['-v'], { encoding: 'utf8', timeout: 10_000 });
    return /nginx\/(\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1] ?? '?';
  },
};
