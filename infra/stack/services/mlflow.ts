// MLflow tracking server with the model registry and the artifact proxy, from PyPI into a venv.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMlflowClient } from '../../../clients/mlflow/client.js';
import { redactUrl } from '../../../config/secrets.js';
import { installAtomically, runInstallCommand } from '../install.js';
import { urlPort } from '../ports.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';

/** The newest release whose wheels (mlflow and mlflow-skinny) PyPI serves here for Python 3.11. */
export const MLFLOW_VERSION = '3.17.2';

export function mlflowVenvPython(paths: StackPaths): string {
  return join(paths.cacheDir, 'mlflow', 'venv', 'bin', 'python');
}

/** `python -m mlflow server …` with its own database and artifact folder under dataDir. */
export function mlflowServerCommand(
  paths: StackPaths,
  dataDir: string,
  host: string,
  port: number,
  extraArgs: string[] = [],
): StartCommand {
  const artifacts = join(dataDir, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  return {
    command: mlflowVenvPython(paths),
    args: [
      '-m',
      'mlflow',
      'server',
      '--backend-store-uri',
      `sqlite:///${join(dataDir, 'mlflow.db')}`,
      '--artifacts-destination',
      artifacts,
      '--serve-artifacts',
      '--host',
      host,
      '--port',
      String(port),
      '--workers',
      '1',
      ...extraArgs,
    ],
    cwd: dataDir,
    // The job runner (huey consumers, one process per job type) serves GenAI features only;
    // tracking and the model registry do not need it, and it costs seven processes on two cores.
    env: { PYTHONUNBUFFERED: '1', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
  };
}

export const mlflowService: ServiceSpec = {
  name: 'mlflow',
  description: `MLflow ${MLFLOW_VERSION} tracking server and model registry`,
  externalKey: 'mlflow.tracking_uri',
  toolchains: [{ command: 'python3', fix: 'install Python 3.10+ with the venv module (apt-get install python3 python3-venv)' }],
  ports: (config) => [urlPort(config.mlflow.tracking_uri)],
  url: (config) => redactUrl(config.mlflow.tracking_uri),
  installDir: (paths) => join(paths.cacheDir, 'mlflow'),
  isInstalled: (paths) =>
    existsSync(mlflowVenvPython(paths)) &&
    existsSync(join(paths.cacheDir, 'mlflow', 'VERSION')) &&
    readFileSync(join(paths.cacheDir, 'mlflow', 'VERSION'), 'utf8').trim() === MLFLOW_VERSION,
  async install(paths, log) {
    log(`creating a Python venv and installing mlflow==${MLFLOW_VERSION} from PyPI (about a minute and a half cold)`);
    await installAtomically(this.installDir(paths), async (stagingDir) => {
      const venv = join(stagingDir, 'venv');
      await runInstallCommand('mlflow', 'python3', ['-m', 'venv', venv]);
      // The venv is renamed into place afterwards: that is safe because everything runs as
      // `venv/bin/python -m …` (never through the console scripts, whose shebangs hold the staging path).
      await runInstallCommand(
        'mlflow',
        join(venv, 'bin', 'python'),
        ['-m', 'pip', 'install', '--disable-pip-version-check', `mlflow==${MLFLOW_VERSION}`],
        {
          onLine: (line) => {
            if (line.startsWith('Collecting '))
              log(
                `collecting ${line
                  .slice('Collecting '.length)
                  .replace(/\s*\(from .*$/, '')
                  .trim()}`,
              );
          },
        },
      );
      writeFileSync(join(stagingDir, 'VERSION'), `${MLFLOW_VERSION}\n`);
    });
    log(`installed ${join(paths.cacheDir, 'mlflow', 'venv')}`);
  },
  async prepareStart(paths, config, dataDir): Promise<StartCommand> {
    const url = new URL(config.mlflow.tracking_uri);
    return mlflowServerCommand(paths, dataDir, url.hostname, urlPort(config.mlflow.tracking_uri));
  },
  async healthy(config) {
    try {
      return await createMlflowClient(config.mlflow, { timeoutMs: 2000 }).healthy();
    } catch {
      return false;
    }
  },
  version(paths) {
    const file = join(paths.cacheDir, 'mlflow', 'VERSION');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : '-';
  },
};
