// The contract every locally started service fulfils. The stack manager (infra/stack/manager.ts)
// installs, starts, health-checks and stops services only through this interface.
import type { PipelineConfig } from '../../config/schema.js';

export interface StackPaths {
  /** Install cache shared by every checkout on the machine (config stack.cache_dir), e.g. ~/.cache/logstream. */
  cacheDir: string;
  /** Where running services keep their data, logs and pid files (config stack.state_dir). */
  stateDir: string;
  /** This repository's infra/ folder (prometheus.yml, launchers, poms). */
  infraDir: string;
}

export interface StartCommand {
  command: string;
  args: string[];
  /** The title a program that renames itself shows in /proc/<pid>/cmdline once running (nginx). */
  processTitle?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface Toolchain {
  /** Executable that must be on PATH, e.g. "java". */
  command: string;
  /** What the user should do when it is missing. */
  fix: string;
}

export interface ServiceSpec {
  /** Short name used on the command line: temporal, kafka, mlflow, opensearch, elasticsearch, prometheus. */
  name: string;
  description: string;
  /** Started by `stack up` without arguments; optional ones only when named (e.g. elasticsearch). */
  optional?: boolean;
  /** Config key whose explicit setting means "the user runs their own; do not start it". */
  externalKey?: string;
  /** Extra advice when one of the ports is held by another process, e.g. how to stop a distro service. */
  portTakenHint?(holder: string): string | undefined;
  /** How long `stack down` waits after SIGTERM before SIGKILL (default 20 s). */
  stopGraceSeconds?: number;
  toolchains: Toolchain[];
  /** Ports the service listens on; checked to be free before starting. */
  ports(config: PipelineConfig): number[];
  /** URL (or host:port) to show the user. */
  url(config: PipelineConfig): string;
  /** Folder inside the cache this service installs into. */
  installDir(paths: StackPaths): string;
  isInstalled(paths: StackPaths): boolean;
  /** Installs into installDir; idempotent; reports progress lines through log. */
  install(paths: StackPaths, log: (line: string) => void): Promise<void>;
  /** Prepares data folders (first start) and returns the command that runs the service in the foreground. */
  prepareStart(paths: StackPaths, config: PipelineConfig, dataDir: string): Promise<StartCommand>;
  /**
   * Why the running service must be restarted to match what prepareStart would now start (its
   * configuration changed, e.g. after an upgrade of the repository), or undefined when it is current.
   */
  outdated?(paths: StackPaths, config: PipelineConfig, dataDir: string): string | undefined;
  /** Runs once the service is healthy (after a start, and on every `up` of a running one), e.g. to create SCRAM users or a default bucket; idempotent. */
  afterStart?(paths: StackPaths, config: PipelineConfig, dataDir: string, log: (line: string) => void): Promise<void>;
  /** A test fixture of the process stack only (e.g. the TLS fronts); docker-compose has no counterpart. */
  processStackOnly?: boolean;
  /** Resolves true once the service answers like itself. Must not throw. */
  healthy(config: PipelineConfig): Promise<boolean>;
  /** Installed version, for `stack status`. */
  version(paths: StackPaths): string;
}
