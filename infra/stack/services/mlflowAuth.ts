// A second MLflow tracking server with basic auth (`mlflow server --app-name basic-auth`), optional,
// for the MLflow authentication tests: its own database, auth database and artifacts, an admin
// password generated into the state dir. It runs from the mlflow service's venv plus Flask-WTF.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMlflowClient } from '../../../clients/mlflow/client.js';
import type { PipelineConfig } from '../../../config/schema.js';
import { stackCredential, stackCredentialFile } from '../credentials.js';
import { runInstallCommand } from '../install.js';
import type { ServiceSpec, StartCommand } from '../service.js';
import { MLFLOW_VERSION, mlflowServerCommand, mlflowService, mlflowVenvPython } from './mlflow.js';

export const MLFLOW_AUTH_PORT = 5001;
export const MLFLOW_ADMIN_USER = 'admin';
const ADMIN_PASSWORD = 'mlflow-admin-password';
const FLASK_SECRET = 'mlflow-auth-flask-secret';
/** What the basic-auth app needs beyond mlflow itself (mlflow's `auth` extra). */
const AUTH_EXTRA = 'Flask-WTF<2';

export interface MlflowAuthStack {
  trackingUri: string;
  username: string;
  /** The file holding the admin password (tests refer to it as ${file:…}). */
  passwordFile: string;
}

export function mlflowAuthStack(config: PipelineConfig): MlflowAuthStack {
  return {
    trackingUri: `http://127.0.0.1:${MLFLOW_AUTH_PORT}`,
    username: MLFLOW_ADMIN_USER,
    passwordFile: stackCredentialFile(config.stack.state_dir, ADMIN_PASSWORD),
  };
}

function markerFile(cacheDir: string): string {
  return join(cacheDir, 'mlflow', 'AUTH_EXTRA');
}

export const mlflowAuthService: ServiceSpec = {
  name: 'mlflow-auth',
  description: `MLflow ${MLFLOW_VERSION} with basic auth (--app-name basic-auth), for the auth tests`,
  optional: true,
  processStackOnly: true,
  toolchains: mlflowService.toolchains,
  ports: () => [MLFLOW_AUTH_PORT],
  url: () => `http://127.0.0.1:${MLFLOW_AUTH_PORT}`,
  installDir: (paths) => join(paths.cacheDir, 'mlflow'),
  isInstalled: (paths) =>
    mlflowService.isInstalled(paths) &&
    existsSync(markerFile(paths.cacheDir)) &&
    readFileSync(markerFile(paths.cacheDir), 'utf8').trim() === AUTH_EXTRA,
  async install(paths, log) {
    if (!mlflowService.isInstalled(paths)) await mlflowService.install(paths, log);
    // Added to the venv in place (the mlflow service may be running from it); the marker makes a
    // half-done install count as not installed.
    log(`installing ${AUTH_EXTRA} (mlflow's auth extra) into the mlflow venv`);
    await runInstallCommand('mlflow-auth', mlflowVenvPython(paths), [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '-q',
      AUTH_EXTRA,
    ]);
    writeFileSync(markerFile(paths.cacheDir), `${AUTH_EXTRA}\n`);
  },
  async prepareStart(paths, _config, dataDir): Promise<StartCommand> {
    const authConfig = join(dataDir, 'basic_auth.ini');
    writeFileSync(
      authConfig,
      [
        '[mlflow]',
        // New users may read, not write; the admin does everything.
        'default_permission = READ',
        `database_uri = sqlite:///${join(dataDir, 'basic_auth.db')}`,
        `admin_username = ${MLFLOW_ADMIN_USER}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        '',
      ].join('\n'),
    );
    const command = mlflowServerCommand(paths, dataDir, '127.0.0.1', MLFLOW_AUTH_PORT, ['--app-name', 'basic-auth']);
    return {
      ...command,
      env: {
        ...command.env,
        MLFLOW_AUTH_CONFIG_PATH: authConfig,
        // The admin password bootstraps the admin user on the first start, through the environment
        // rather than the ini file, so no password sits in a config file.
        MLFLOW_AUTH_ADMIN_PASSWORD: stackCredential(paths.stateDir, ADMIN_PASSWORD).value,
        MLFLOW_FLASK_SERVER_SECRET_KEY: stackCredential(paths.stateDir, FLASK_SECRET).value,
      },
    };
  },
  async healthy(config) {
    const stack = mlflowAuthStack(config);
    if (!existsSync(stack.passwordFile)) return false;
    try {
      return await createMlflowClient(
        { tracking_uri: stack.trackingUri, username: stack.username, password: `\${file:${stack.passwordFile}}` },
        { timeoutMs: 2000 },
      ).healthy();
    } catch {
      return false;
    }
  },
  version: (paths) => mlflowService.version(paths),
};
