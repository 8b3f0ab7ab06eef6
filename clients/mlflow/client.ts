// A small typed MLflow client over its REST API (tracking, artifacts through the server's
// mlflow-artifacts proxy, model registry with aliases). No maintained JavaScript client covers
// the registry with aliases, so this is the only module that talks to MLflow.
import { Agent, fetch, Response } from 'undici';
import type { PipelineConfig } from '../../config/schema.js';
import { resolveSecret, splitUrlCredentials } from '../../config/secrets.js';
import { readPemFile, TlsHandshakeError, tlsFailureOf } from '../tls.js';
import { MlflowApiError, MlflowAuthenticationError, MlflowUnavailableError } from './errors.js';

export interface MlflowClientOptions {
  /** The server's URL; credentials in it (http://user:pass@host) are used as basic auth and never shown. */
  trackingUri: string;
  /** Basic auth (an `mlflow server --app-name basic-auth`, or a proxy in front of MLflow). */
  username?: string;
  password?: string;
  /** CA bundle (PEM) for an https server; Node's built-in CAs when absent. */
  ca?: Buffer;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
}

export type MlflowSettings = Pick<PipelineConfig['mlflow'], 'tracking_uri'> &
  Partial<Pick<PipelineConfig['mlflow'], 'username' | 'password' | 'tls_ca_file'>>;

/** The client for config.mlflow, with its credentials (secrets resolved now) and CA bundle. */
export function createMlflowClient(settings: MlflowSettings, options: { timeoutMs?: number } = {}): MlflowClient {
  return new MlflowClient({
    trackingUri: settings.tracking_uri,
    username: resolveSecret(settings.username, 'mlflow.username'),
    password: resolveSecret(settings.password, 'mlflow.password'),
    ca: settings.tls_ca_file ? readPemFile(settings.tls_ca_file, 'mlflow.tls_ca_file') : undefined,
    timeoutMs: options.timeoutMs,
  });
}

export interface Metric {
  key: string;
  value: number;
  step?: number;
  timestampMs?: number;
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  artifactUri: string;
}

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  runId?: string;
  status?: string;
  tags: Record<string, string>;
  aliases: string[];
}

interface RawModelVersion {
  name: string;
  version: string;
  source: string;
  run_id?: string;
  status?: string;
  tags?: { key: string; value: string }[];
  aliases?: string[];
}

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

export class MlflowClient {
  /** The server's URL without credentials (what messages show). */
  readonly trackingUri: string;
  private readonly timeoutMs: number;
  private readonly authorization?: string;
  private readonly username?: string;
  private readonly dispatcher?: Agent;

  constructor(options: MlflowClientOptions) {
    const fromUrl = splitUrlCredentials(options.trackingUri);
    this.trackingUri = fromUrl.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.username = options.username ?? fromUrl.username;
    const password = options.password ?? fromUrl.password;
    if (this.username !== undefined) this.authorization = `Basic ${Buffer.from(`${this.username}:${password ?? ''}`).toString('base64')}`;
    if (options.ca) this.dispatcher = new Agent({ connect: { ca: options.ca } });
  }

  /** True when the server answers /health and, with these credentials, the tracking API. Never throws. */
  async healthy(): Promise<boolean> {
    try {
      await this.checkAccess();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Throws MlflowUnavailableError when the server does not answer, MlflowAuthenticationError when it
   * refuses the credentials, TlsHandshakeError when its certificate cannot be verified.
   */
  async checkAccess(): Promise<void> {
    await this.send('GET', `${this.trackingUri}/health`, 'health check');
    await this.send('GET', `${this.trackingUri}${API}/experiments/search?max_results=1`, 'search experiments');
  }

  /** Experiment id by name, creating the experiment when it does not exist. */
  async ensureExperiment(name: string): Promise<string> {
    const found = await this.call<{ experiment: { experiment_id: string } }>(
      'GET',
      `${API}/experiments/get-by-name`,
      { experiment_name: name },
      'get experiment',
      true,
    );
    if (found) return found.experiment.experiment_id;
    try {
      const created = await this.call<{ experiment_id: string }>('POST', `${API}/experiments/create`, { name }, 'create experiment');
      return created!.experiment_id;
    } catch (error) {
      // Another trainer created it in between.
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS') return this.ensureExperiment(name);
      throw error;
    }
  }

  async createRun(experimentId: string, runName: string, tags: Record<string, string> = {}): Promise<RunInfo> {
    const body = { experiment_id: experimentId, run_name: runName, start_time: Date.now(), tags: toKeyValues(tags) };
    const result = await this.call<{ run: { info: { run_id: string; experiment_id: string; artifact_uri: string } } }>(
      'POST',
      `${API}/runs/create`,
      body,
      'create run',
    );
    const info = result!.run.info;
    return { runId: info.run_id, experimentId: info.experiment_id, artifactUri: info.artifact_uri };
  }

  async logBatch(
    runId: string,
    batch: { params?: Record<string, string | number>; metrics?: Metric[]; tags?: Record<string, string> },
  ): Promise<void> {
    const now = Date.now();
    const params = Object.entries(batch.params ?? {}).map(([key, value]) => ({ key, value: String(value) }));
    const metrics = (batch.metrics ?? []).map((metric) => ({
      key: metric.key,
      value: metric.value,
      step: metric.step ?? 0,
      timestamp: metric.timestampMs ?? now,
    }));
    // MLflow caps a batch at 1000 metrics and 100 params.
    for (let start = 0; start < Math.max(params.length, metrics.length, 1); start += 100) {
      await this.call(
        'POST',
        `${API}/runs/log-batch`,
        {
          run_id: runId,
          params: params.slice(start, start + 100),
          metrics: metrics.slice(start, start + 100),
          tags: start === 0 ? toKeyValues(batch.tags ?? {}) : [],
        },
        'log batch',
      );
    }
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED' = 'FINISHED'): Promise<void> {
    await this.call('POST', `${API}/runs/update`, { run_id: runId, status, end_time: Date.now() }, 'update run');
  }

  /** Uploads one artifact of a run through the server's artifact proxy (mlflow server --serve-artifacts). */
  async uploadArtifact(run: RunInfo, path: string, content: string | Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const url = `${this.trackingUri}${ARTIFACTS}/${run.experimentId}/${run.runId}/artifacts/${encodePath(path)}`;
    await this.send('PUT', url, `upload artifact ${path}`, { body: content, headers: { 'content-type': contentType } });
  }

  /** Reads an artifact given its mlflow-artifacts:/ URI (as model version sources are). */
  async downloadArtifact(uri: string): Promise<string> {
    const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+)$/.exec(uri);
    if (!match) {
      throw new MlflowApiError(
        `download ${uri}`,
        0,
        'UNSUPPORTED_ARTIFACT_URI',
        'only mlflow-artifacts:/ URIs can be read through the tracking server; run the server with --serve-artifacts',
      );
    }
    const response = await this.send('GET', `${this.trackingUri}${ARTIFACTS}/${encodePath(match[1]!)}`, `download artifact ${uri}`);
    return response.text();
  }

  async ensureRegisteredModel(name: string): Promise<void> {
    const found = await this.call('GET', `${API}/registered-models/get`, { name }, 'get registered model', true);
    if (found) return;
    try {
      await this.call('POST', `${API}/registered-models/create`, { name }, 'create registered model');
    } catch (error) {
      if (!(error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
    }
  }

  async createModelVersion(name: string, source: string, runId: string, tags: Record<string, string> = {}): Promise<ModelVersion> {
    const result = await this.call<{ model_version: RawModelVersion }>(
      'POST',
      `${API}/model-versions/create`,
      { name, source, run_id: runId, tags: toKeyValues(tags) },
      'create model version',
    );
    return toModelVersion(result!.model_version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const result = await this.call<{ model_version: RawModelVersion }>(
      'GET',
      `${API}/model-versions/get`,
      { name, version },
      `get version ${version} of ${name}`,
    );
    return toModelVersion(result!.model_version);
  }

  /** The version an alias points to, or undefined when the alias (or the model) does not exist. */
  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      const result = await this.call<{ model_version: RawModelVersion }>(
        'GET',
        `${API}/registered-models/alias`,
        { name, alias },
        `get alias ${alias} of ${name}`,
        true,
      );
      return result ? toModelVersion(result.model_version) : undefined;
    } catch (error) {
      // MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE "... alias X not found".
      if (error instanceof MlflowApiError && error.errorCode === 'INVALID_PARAMETER_VALUE' && /not found/i.test(error.message))
        return undefined;
      throw error;
    }
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', `${API}/registered-models/alias`, { name, alias, version }, `set alias ${alias} of ${name}`);
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call('POST', `${API}/model-versions/set-tag`, { name, version, key, value }, `tag version ${version} of ${name}`);
  }

  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    const result = await this.call<{ model_versions?: RawModelVersion[] }>(
      'GET',
      `${API}/model-versions/search`,
      { filter: `name='${name.replace(/'/g, "\\'")}'`, max_results: '1000' },
      `search versions of ${name}`,
    );
    return (result?.model_versions ?? []).map(toModelVersion);
  }

  /** JSON call; with allowMissing, RESOURCE_DOES_NOT_EXIST (404) resolves to undefined. */
  private async call<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    payload: Record<string, unknown>,
    what: string,
    allowMissing = false,
  ): Promise<T | undefined> {
    let url = `${this.trackingUri}${path}`;
    const init: { body?: string; headers?: Record<string, string> } = {};
    if (method === 'GET') url += `?${new URLSearchParams(payload as Record<string, string>).toString()}`;
    else {
      init.body = JSON.stringify(payload);
      init.headers = { 'content-type': 'application/json' };
    }
    const response = await this.send(method, url, what, init, allowMissing);
    if (response.status === 404 && allowMissing) return undefined;
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  private async send(
    method: string,
    url: string,
    what: string,
    init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
    allowMissing = false,
  ): Promise<Response> {
    let response: Response | undefined;
    const headers = { ...init.headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
    for (let attempt = 1; !response; attempt += 1) {
      try {
        response = await fetch(url, {
          method,
          body: init.body,
          headers,
          signal: AbortSignal.timeout(this.timeoutMs),
          dispatcher: this.dispatcher,
        });
      } catch (error) {
        // The server may close an idle keep-alive connection just as it is reused; the request
        // never reached it, so one retry on a fresh connection is safe.
        if (attempt === 1 && isClosedConnection(error)) continue;
        const tls = tlsFailureOf(error);
        if (tls)
          throw new TlsHandshakeError('MLflow', this.trackingUri, tls, {
            ca: 'mlflow.tls_ca_file',
            turnOff: 'write mlflow.tracking_uri with http://',
          });
        throw new MlflowUnavailableError(this.trackingUri, error);
      }
    }
    if (response.ok) return response;
    if (response.status === 401) {
      const text = await response.text();
      throw new MlflowAuthenticationError(this.trackingUri, this.username, text.split('\n', 1)[0]!.slice(0, 200));
    }
    const text = await response.text();
    let errorCode: string | undefined;
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = parsed.error_code;
      message = parsed.message ?? message;
    } catch {
      // not JSON: keep the text
    }
    if (allowMissing && (response.status === 404 || errorCode === 'RESOURCE_DOES_NOT_EXIST')) return new Response(null, { status: 404 });
    throw new MlflowApiError(what, response.status, errorCode, message.split('\n', 1)[0]!);
  }
}

function isClosedConnection(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET' || /other side closed/i.test(cause?.message ?? '');
}

function toKeyValues(values: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(values).map(([key, value]) => ({ key, value }));
}

function toModelVersion(raw: RawModelVersion): ModelVersion {
  return {
    name: raw.name,
    version: String(raw.version),
    source: raw.source,
    runId: raw.run_id,
    status: raw.status,
    tags: Object.fromEntries((raw.tags ?? []).map(({ key, value }) => [key, value])),
    aliases: raw.aliases ?? [],
  };
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
