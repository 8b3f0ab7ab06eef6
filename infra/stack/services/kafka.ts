// One-node Apache Kafka broker in KRaft mode, assembled from Maven Central jars (infra/kafka/pom.xml).
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineConfig } from '../../../config/schema.js';
import { installAtomically, runInstallCommand } from '../install.js';
import { hostOf, portOf } from '../ports.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';

/** 4.x brokers need Java 17, which is what these machines have. */
export const KAFKA_VERSION = '4.1.1';

function libsDir(paths: StackPaths): string {
  return join(paths.cacheDir, 'kafka', 'libs');
}

/** The Kafka controller listens next to the broker port. */
export function kafkaControllerPort(config: PipelineConfig): number {
  return portOf(config.kafka.servers) + 1;
}

/** Replaces every ${NAME} of the template; a name without a value is an error, so the template and code stay in step. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template variable \${${name}} has no value`);
    return value;
  });
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The storage tool's cluster-id option as one argument: a base64url id may start with "-" (1 in
 * 64), which the tool would read as an option if the id came as a separate argument.
 */
export function clusterIdArgument(clusterId: string): string {
  return `--cluster-id=${clusterId}`;
}

function javaArgs(paths: StackPaths, stateDir: string, mainClass: string, args: string[]): string[] {
  return [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(stateDir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${stateDir}`,
    '-cp',
    `${libsDir(paths)}/*`,
    mainClass,
    ...args,
  ];
}

export const kafkaService: ServiceSpec = {
  name: 'kafka',
  description: `Apache Kafka ${KAFKA_VERSION} broker (KRaft, one node)`,
  externalKey: 'kafka.servers',
  stopGraceSeconds: 30,
  toolchains: [
    { command: 'java', fix: 'install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)' },
    { command: 'mvn', fix: 'install Maven (apt-get install maven); it fetches the Kafka jars from Maven Central once' },
  ],
  ports: (config) => [portOf(config.kafka.servers), kafkaControllerPort(config)],
  url: (config) => config.kafka.servers,
  installDir: (paths) => join(paths.cacheDir, 'kafka'),
  isInstalled: (paths) =>
    existsSync(join(libsDir(paths), `kafka_2.13-${KAFKA_VERSION}.jar`)) &&
    existsSync(join(paths.cacheDir, 'kafka', 'VERSION')) &&
    readFileSync(join(paths.cacheDir, 'kafka', 'VERSION'), 'utf8').trim() === KAFKA_VERSION,
  async install(paths, log) {
    log(`resolving org.apache.kafka:kafka_2.13:${KAFKA_VERSION} and its dependencies from Maven Central`);
    let downloads = 0;
    await installAtomically(this.installDir(paths), async (stagingDir) => {
      await runInstallCommand(
        'kafka',
        'mvn',
        [
          '-B',
          '-f',
          join(paths.infraDir, 'kafka', 'pom.xml'),
          // A Maven repository inside the cache, so the cache alone is enough on a new checkout.
          `-Dmaven.repo.local=${join(paths.cacheDir, 'maven-repository')}`,
          `-Dkafka.version=${KAFKA_VERSION}`,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          `-DoutputDirectory=${join(stagingDir, 'libs')}`,
        ],
        {
          onLine: (line) => {
            const match = /Downloaded from \S+: (\S+\/([^/\s]+\.jar)) \(([^)]+)\)/.exec(line);
            if (!match) return;
            downloads += 1;
            // The broker's own jars by name; Maven's plugin jars only as a count.
            if (match[1]!.includes('/org/apache/kafka/')) log(`downloaded ${match[2]} (${match[3]})`);
            else if (downloads % 20 === 0) log(`downloaded ${downloads} jars so far`);
          },
        },
      );
      writeFileSync(join(stagingDir, 'VERSION'), `${KAFKA_VERSION}\n`);
    });
    log(`installed ${libsDir(paths)}`);
  },
  async prepareStart(paths, config, dataDir): Promise<StartCommand> {
    const logDirs = join(dataDir, 'data');
    mkdirSync(logDirs, { recursive: true });
    const serverProperties = join(dataDir, 'server.properties');
    const template = readFileSync(join(paths.infraDir, 'kafka', 'server.properties'), 'utf8');
    writeFileSync(
      serverProperties,
      renderTemplate(template, {
        HOST: hostOf(config.kafka.servers),
        PORT: String(portOf(config.kafka.servers)),
        CONTROLLER_PORT: String(kafkaControllerPort(config)),
        LOG_DIRS: logDirs,
        NUM_PARTITIONS: String(config.kafka.partitions),
      }),
    );
    copyFileSync(join(paths.infraDir, 'kafka', 'log4j2.properties'), join(dataDir, 'log4j2.properties'));
    if (!existsSync(join(logDirs, 'meta.properties'))) {
      // KRaft storage is formatted once; later starts reuse the data (topics survive restarts).
      await runInstallCommand(
        'kafka',
        'java',
        javaArgs(paths, dataDir, 'kafka.tools.StorageTool', [
          'format',
          '--standalone',
          clusterIdArgument(newClusterId()),
          '-c',
          serverProperties,
        ]),
      );
    }
    return { command: 'java', args: javaArgs(paths, dataDir, 'kafka.Kafka', [serverProperties]), cwd: dataDir };
  },
  async healthy(config) {
    try {
      const { Kafka, logLevel } = await import('kafkajs');
      const kafka = new Kafka({
        clientId: 'logstream-stack-health',
        brokers: config.kafka.servers.split(','),
        connectionTimeout: 1500,
        requestTimeout: 3000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller !== -1;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    } catch {
      return false;
    }
  },
  version(paths) {
    const file = join(paths.cacheDir, 'kafka', 'VERSION');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : '-';
  },
};
