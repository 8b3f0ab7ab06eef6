// What OpenSearch and Elasticsearch have in common as local services: a real node assembled from
// Maven Central jars (a pom in infra/search/<engine>/), started by a small Java launcher compiled at
// install time, configured from templates in the same folder, health-checked over HTTP.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { createSearchClient, type SearchHealth, type SearchSettings } from '../../clients/search/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { redactUrl } from '../../config/secrets.js';
import { installAtomically, runInstallCommand } from '../stack/install.js';
import type { ServiceSpec, StackPaths, StartCommand, Toolchain } from '../stack/service.js';

export interface SearchNodeOptions {
  /** Service name and cache folder name: opensearch or elasticsearch. */
  name: string;
  description: string;
  /** Folder under infra/search/ holding pom.xml, the launcher source and the config templates. */
  sourceFolder: string;
  /** Name of the settings file the launcher reads (opensearch.yml, elasticsearch.yml). */
  settingsFile: string;
  /** Launcher class name; its source is <sourceFolder>/<launcherClass>.java. */
  launcherClass: string;
  /** Version of the server jar the pom pins, e.g. 2.19.6. */
  version: string;
  httpPort: number;
  transportPort: number;
  /** True when the engine's health answer is this service's (the client already checked the engine kind). */
  isExpectedHealth(health: SearchHealth, config: PipelineConfig, baseUrl: string): boolean;
  /**
   * How health checks and `stack status` connect; defaults to the local node, anonymous. OpenSearch
   * answers config.elasticsearch (with its credentials and TLS), because a user who sets
   * elasticsearch.host runs their own engine there.
   */
  searchSettings?(config: PipelineConfig): SearchSettings;
  /** JVM flags specific to this engine (system properties its distribution sets in jvm.options). */
  extraJvmFlags: string[];
}

const heapFlags = ['-Xms512m', '-Xmx1g'];

// The flags a distribution's jvm.options sets that matter for an embedded node: log4j must not
// stop before the node has logged its shutdown, and Netty must not grab direct memory arenas.
const commonJvmFlags = [
  '-XX:+UseG1GC',
  '-Djava.awt.headless=true',
  '-Dfile.encoding=UTF-8',
  '-Djna.nosys=true',
  '-Dlog4j.shutdownHookEnabled=false',
  '-Dlog4j2.disable.jmx=true',
  '-Dlog4j2.formatMsgNoLookups=true',
  '-Dio.netty.noUnsafe=true',
  '-Dio.netty.noKeySetOptimization=true',
  '-Dio.netty.recycler.maxCapacityPerThread=0',
  '-Dio.netty.allocator.numDirectArenas=0',
];

export const javaToolchains: Toolchain[] = [
  { command: 'java', fix: 'install a Java 17 runtime, e.g. `apt-get install openjdk-17-jdk-headless`' },
  { command: 'javac', fix: 'install a Java 17 JDK (javac compiles the node launcher), e.g. `apt-get install openjdk-17-jdk-headless`' },
  { command: 'mvn', fix: 'install Maven (it fetches the node jars from Maven Central), e.g. `apt-get install maven`' },
];

/** Fills {{name}} placeholders of a config template; an unknown placeholder is a bug in the template. */
export function renderTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`config template placeholder {{${key}}} has no value`);
    return String(value);
  });
}

interface InstallMarker {
  version: string;
  /** Hash of the pom and launcher source the install was built from: editing either means reinstall. */
  sourceHash: string;
}

function sourceHashOf(sourceDir: string, launcherClass: string): string {
  const hash = createHash('sha256');
  for (const file of ['pom.xml', `${launcherClass}.java`]) hash.update(readFileSync(join(sourceDir, file)));
  return hash.digest('hex').slice(0, 16);
}

function markerPath(installDir: string): string {
  return join(installDir, 'installed.json');
}

function readMarker(installDir: string): InstallMarker | undefined {
  try {
    return JSON.parse(readFileSync(markerPath(installDir), 'utf8')) as InstallMarker;
  } catch {
    return undefined;
  }
}

/** Builds the ServiceSpec of one search engine node. */
export function searchNodeService(options: SearchNodeOptions): ServiceSpec {
  const localUrl = `http://127.0.0.1:${options.httpPort}`;
  const settingsOf = (config: PipelineConfig): SearchSettings =>
    options.searchSettings?.(config) ?? { host: localUrl, kind: options.name === 'elasticsearch' ? 'elasticsearch' : 'opensearch' };
  const urlOf = (config: PipelineConfig) => redactUrl(settingsOf(config).host).replace(/\/+$/, '');
  const installDir = (paths: StackPaths) => join(paths.cacheDir, options.name);
  const sourceDir = (paths: StackPaths) => join(paths.infraDir, 'search', options.sourceFolder);
  const isInstalled = (paths: StackPaths) => {
    const dir = installDir(paths);
    const marker = readMarker(dir);
    return (
      marker?.version === options.version &&
      marker.sourceHash === sourceHashOf(sourceDir(paths), options.launcherClass) &&
      existsSync(join(dir, 'launcher', `${options.launcherClass}.class`))
    );
  };

  return {
    name: options.name,
    description: options.description,
    toolchains: javaToolchains,
    // node.close() flushes and closes every shard; a SIGKILL too early costs a slow recovery next start.
    stopGraceSeconds: 30,
    ports: () => [options.httpPort, options.transportPort],
    url: urlOf,
    installDir,

    isInstalled,

    async install(paths, log) {
      if (isInstalled(paths)) return;
      const source = sourceDir(paths);
      const logNonEmpty = (line: string) => {
        // mvn -q still prints colour resets on otherwise empty lines.
        const text = stripVTControlCharacters(line).trim();
        if (text) log(text);
      };
      await installAtomically(installDir(paths), async (stagingDir) => {
        const libsDir = join(stagingDir, 'libs');
        log(`fetching ${options.name} ${options.version} jars from Maven Central`);
        await runInstallCommand(
          options.name,
          'mvn',
          [
            '-B',
            '-q',
            '-f',
            join(source, 'pom.xml'),
            // The Maven repository inside the cache (shared with the other Java services), so the cache alone is enough.
            `-Dmaven.repo.local=${join(paths.cacheDir, 'maven-repository')}`,
            'dependency:copy-dependencies',
            '-DincludeScope=runtime',
            `-DoutputDirectory=${libsDir}`,
          ],
          { onLine: (line) => logNonEmpty(line) },
        );
        log('compiling the node launcher');
        const launcherDir = join(stagingDir, 'launcher');
        mkdirSync(launcherDir, { recursive: true });
        await runInstallCommand(
          options.name,
          'javac',
          ['-d', launcherDir, '-cp', `${libsDir}/*`, join(source, `${options.launcherClass}.java`)],
          {
            onLine: (line) => logNonEmpty(line),
          },
        );
        const marker: InstallMarker = { version: options.version, sourceHash: sourceHashOf(source, options.launcherClass) };
        writeFileSync(markerPath(stagingDir), `${JSON.stringify(marker)}\n`);
      });
      log(`installed ${options.name} ${options.version}`);
    },

    async prepareStart(paths, _config, dataDir): Promise<StartCommand> {
      const source = sourceDir(paths);
      const configDir = join(dataDir, 'config');
      const dataFolder = join(dataDir, 'data');
      const logsFolder = join(dataDir, 'logs');
      for (const folder of [configDir, dataFolder, logsFolder]) mkdirSync(folder, { recursive: true });
      const settings = renderTemplate(readFileSync(join(source, options.settingsFile), 'utf8'), {
        home: dataDir,
        data: dataFolder,
        logs: logsFolder,
        httpPort: options.httpPort,
        transportPort: options.transportPort,
      });
      writeFileSync(join(configDir, options.settingsFile), settings);
      writeFileSync(join(configDir, 'log4j2.properties'), readFileSync(join(source, 'log4j2.properties')));
      const dir = installDir(paths);
      const tmpDir = join(dataDir, 'tmp');
      mkdirSync(tmpDir, { recursive: true });
      return {
        command: 'java',
        args: [
          ...heapFlags,
          ...commonJvmFlags,
          ...options.extraJvmFlags,
          `-Djava.io.tmpdir=${tmpDir}`,
          '-cp',
          `${join(dir, 'libs')}/*:${join(dir, 'launcher')}`,
          options.launcherClass,
          configDir,
        ],
        cwd: dataDir,
      };
    },

    async healthy(config) {
      let client: ReturnType<typeof createSearchClient> | undefined;
      try {
        client = createSearchClient(
          { elasticsearch: { ...settingsOf(config), index_prefix: 'logstream-stack-health' } },
          { requestTimeoutMs: 2000 },
        );
        const health = await client.health();
        return (health.status === 'green' || health.status === 'yellow') && options.isExpectedHealth(health, config, urlOf(config));
      } catch {
        return false;
      } finally {
        await client?.close().catch(() => undefined);
      }
    },

    version(paths) {
      return readMarker(installDir(paths))?.version ?? 'not installed';
    },
  };
}
