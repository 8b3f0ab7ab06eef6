// Prometheus from the Debian package, run by the stack with the repository's infra/prometheus.yml.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusReady } from '../../../clients/metrics/prometheus.js';
import { redactUrl } from '../../../config/secrets.js';
import { installDebianPackage } from '../debianPackage.js';
import { commandOnPath } from '../install.js';
import { urlPort } from '../ports.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';

const PROMETHEUS = '/usr/bin/prometheus';

/** Where tests and tools drop file_sd target files (JSON) that Prometheus picks up without a restart. */
export function prometheusTargetsDir(stateDir: string): string {
  return join(stateDir, 'prometheus', 'targets');
}

/** "prometheus, version 2.42.0+ds (branch: …" -> "2.42.0+ds" */
export function parsePrometheusVersion(output: string): string | undefined {
  return /version (\S+)/.exec(output)?.[1];
}

function binary(): string {
  return existsSync(PROMETHEUS) ? PROMETHEUS : 'prometheus';
}

export const prometheusService: ServiceSpec = {
  name: 'prometheus',
  description: 'Prometheus (Debian package)',
  externalKey: 'prometheus.url',
  toolchains: [],
  ports: (config) => [urlPort(config.prometheus.url)],
  portTakenHint: (holder) =>
    // The Debian package's own service runs with the distro config.
    holder.includes('/etc/prometheus/')
      ? 'that is the distro prometheus service: stop it with `systemctl disable --now prometheus` (or `service prometheus stop`) and run the command again.'
      : undefined,
  url: (config) => redactUrl(config.prometheus.url),
  installDir: (paths: StackPaths) => join(paths.cacheDir, 'prometheus'),
  isInstalled: () => existsSync(PROMETHEUS) || commandOnPath('prometheus'),
  install: (_paths, log) =>
    installDebianPackage(
      {
        service: 'prometheus',
        packageName: 'prometheus',
        otherwise: 'install Prometheus 2.x so that `prometheus` is on PATH (https://prometheus.io/download/)',
      },
      log,
    ),

  async prepareStart(paths, config, dataDir): Promise<StartCommand> {
    mkdirSync(join(dataDir, 'data'), { recursive: true });
    mkdirSync(prometheusTargetsDir(paths.stateDir), { recursive: true });
    // A copy next to the data, because file_sd paths in the config are relative to the config
    // file's folder: targets/*.json then means <state_dir>/prometheus/targets, not the repository.
    const configFile = join(dataDir, 'prometheus.yml');
    copyFileSync(join(paths.infraDir, 'prometheus.yml'), configFile);
    const url = new URL(config.prometheus.url);
    return {
      command: binary(),
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        '--storage.tsdb.retention.time=7d',
        `--web.listen-address=${url.hostname}:${urlPort(config.prometheus.url)}`,
        '--web.enable-lifecycle',
      ],
      cwd: dataDir,
    };
  },
  healthy: (config) => prometheusReady(config.prometheus.url),
  version() {
    try {
      return parsePrometheusVersion(execFileSync(binary(), ['--version'], { encoding: 'utf8', timeout: 10_000 })) ?? '?';
    } catch {
      return '-';
    }
  },
};
