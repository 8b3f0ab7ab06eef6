// Temporal dev server (frontend gRPC, Web UI, /metrics) from the Temporal CLI, built with `go install`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalHealthy } from '../../../clients/temporal/connection.js';
import type { PipelineConfig } from '../../../config/schema.js';
import { installAtomically, runInstallCommand } from '../install.js';
import { hostOf, isPortInUse, portOf } from '../ports.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';

/** Later CLI tags carry a `replace` directive in go.mod and cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** Fixed offsets from the gRPC port, so Prometheus (infra/prometheus.yml) knows where the metrics are. */
export function temporalMetricsPort(config: PipelineConfig): number {
  return portOf(config.temporal.address) + 2;
}
export function temporalHttpPort(config: PipelineConfig): number {
  return portOf(config.temporal.address) + 10;
}

function binary(paths: StackPaths): string {
  return join(paths.cacheDir, 'temporal', 'bin', 'temporal');
}

/** "temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)" -> "server 1.29.1, ui 2.42.1" */
export function parseTemporalVersion(output: string): string | undefined {
  const match = /Server ([\w.-]+), UI ([\w.-]+)/.exec(output);
  return match ? `server ${match[1]}, ui ${match[2]}` : undefined;
}

export const temporalService: ServiceSpec = {
  name: 'temporal',
  description: 'Temporal dev server with the Web UI',
  externalKey: 'temporal.address',
  toolchains: [
    { command: 'go', fix: 'install Go 1.23 or later (https://go.dev/doc/install, or apt-get install golang) and put it on PATH' },
  ],
  ports: (config) => [portOf(config.temporal.address), config.temporal.ui_port, temporalHttpPort(config), temporalMetricsPort(config)],
  url: (config) => `${config.temporal.address} (UI http://${hostOf(config.temporal.address)}:${config.temporal.ui_port})`,
  installDir: (paths) => join(paths.cacheDir, 'temporal'),
  isInstalled: (paths) => existsSync(binary(paths)),
  async install(paths, log) {
    log(`building ${MODULE}@${TEMPORAL_CLI_VERSION} with go install (a few minutes on a cold Go module cache)`);
    let downloads = 0;
    await installAtomically(this.installDir(paths), async (stagingDir) => {
      await runInstallCommand('temporal', 'go', ['install', `${MODULE}@${TEMPORAL_CLI_VERSION}`], {
        env: { GOBIN: join(stagingDir, 'bin'), GOTOOLCHAIN: 'local' },
        onLine: (line) => {
          if (!line.startsWith('go: downloading')) return;
          downloads += 1;
          if (downloads === 1 || downloads % 25 === 0) log(`${line.slice(4)} (module ${downloads})`);
        },
      });
      writeFileSync(join(stagingDir, 'VERSION'), `${TEMPORAL_CLI_VERSION}\n`);
    });
    log(`installed ${binary(paths)}`);
  },
  async prepareStart(paths, config, dataDir): Promise<StartCommand> {
    mkdirSync(dataDir, { recursive: true });
    return {
      command: binary(paths),
      args: [
        'server',
        'start-dev',
        '--ip',
        hostOf(config.temporal.address),
        '--port',
        String(portOf(config.temporal.address)),
        '--ui-port',
        String(config.temporal.ui_port),
        '--http-port',
        String(temporalHttpPort(config)),
        '--metrics-port',
        String(temporalMetricsPort(config)),
        '--db-filename',
        join(dataDir, 'temporal.db'),
        '--log-level',
        'warn',
      ],
    };
  },
  async healthy(config) {
    // A closed port fails at once here; the gRPC client would keep retrying until its deadline.
    if (!(await isPortInUse(portOf(config.temporal.address), hostOf(config.temporal.address)))) return false;
    try {
      return await temporalHealthy(config.temporal);
    } catch {
      return false;
    }
  },
  version(paths) {
    if (!existsSync(binary(paths))) return '-';
    const cli = existsSync(join(this.installDir(paths), 'VERSION'))
      ? readFileSync(join(this.installDir(paths), 'VERSION'), 'utf8').trim()
      : TEMPORAL_CLI_VERSION;
    try {
      const server = parseTemporalVersion(execFileSync(binary(paths), ['--version'], { encoding: 'utf8', timeout: 10_000 }));
      return server ? `cli ${cli} (${server})` : `cli ${cli}`;
    } catch {
      return `cli ${cli}`;
    }
  },
};
