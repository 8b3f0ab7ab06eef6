// One-node Apache Kafka broker in KRaft mode, assembled from Maven Central jars (infra/kafka/pom.xml),
// with a plaintext listener and two secured ones (SASL_SSL; SSL with client certificates).
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafkaClient } from '../../../clients/kafka/index.js';
import type { PipelineConfig } from '../../../config/schema.js';
import { ensureStackTls, existingStackCredential, stackCredential, stackCredentialFile, stackTlsFiles } from '../credentials.js';
import { installAtomically, runInstallCommand } from '../install.js';
import { hostOf, portOf } from '../ports.js';
import type { ServiceSpec, StackPaths, StartCommand } from '../service.js';
import { renderTemplate } from '../template.js';

export { renderTemplate } from '../template.js';

/** 4.x brokers need Java 17, which is what these machines have. */
export const KAFKA_VERSION = '4.1.1';

function libsDir(paths: StackPaths): string {
  return join(paths.cacheDir, 'kafka', 'libs');
}

/** The Kafka controller listens next to the broker port. */
export function kafkaControllerPort(config: PipelineConfig): number {
  return portOf(config.kafka.servers) + 1;
}

/** The SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; client certificate optional). */
export function kafkaSaslSslPort(config: PipelineConfig): number {
  return portOf(config.kafka.servers) + 2;
}

/** The SSL listener that requires a client certificate signed by the stack's CA. */
export function kafkaSslPort(config: PipelineConfig): number {
  return portOf(config.kafka.servers) + 3;
}

/** The user the stack creates on its SASL_SSL listener, with one password for PLAIN and another for SCRAM. */
export const KAFKA_STACK_USER = 'logstream';
const PLAIN_CREDENTIAL = 'kafka-plain-password';
const SCRAM_CREDENTIAL = 'kafka-scram-password';

export interface KafkaStackSecurity {
  saslSslServers: string;
  sslServers: string;
  username: string;
  /** Files holding the passwords (the stack's tests refer to them as ${file:…}). */
  plainPasswordFile: string;
  scramPasswordFile: string;
}

/** Where the stack's broker offers its secured listeners and which credentials it accepts there. */
export function kafkaStackSecurity(config: PipelineConfig): KafkaStackSecurity {
  const host = hostOf(config.kafka.servers);
  return {
    saslSslServers: `${host}:${kafkaSaslSslPort(config)}`,
    sslServers: `${host}:${kafkaSslPort(config)}`,
    username: KAFKA_STACK_USER,
    plainPasswordFile: stackCredentialFile(config.stack.state_dir, PLAIN_CREDENTIAL),
    scramPasswordFile: stackCredentialFile(config.stack.state_dir, SCRAM_CREDENTIAL),
  };
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

/** The broker's server.properties for this configuration (the PLAIN password as given). */
export function renderServerProperties(paths: StackPaths, config: PipelineConfig, dataDir: string, plainPassword: string): string {
  const tls = stackTlsFiles(paths.stateDir);
  const template = readFileSync(join(paths.infraDir, 'kafka', 'server.properties'), 'utf8');
  return renderTemplate(template, {
    HOST: hostOf(config.kafka.servers),
    PORT: String(portOf(config.kafka.servers)),
    CONTROLLER_PORT: String(kafkaControllerPort(config)),
    SASL_SSL_PORT: String(kafkaSaslSslPort(config)),
    SSL_PORT: String(kafkaSslPort(config)),
    LOG_DIRS: join(dataDir, 'data'),
    NUM_PARTITIONS: String(config.kafka.partitions),
    TLS_KEYSTORE: tls.serverBundle,
    TLS_CA: tls.ca,
    PLAIN_USER: KAFKA_STACK_USER,
    PLAIN_PASSWORD: plainPassword,
  });
}

/** What the SCRAM credentials were last set from: a hash, so the marker file holds no password. */
function scramMarker(password: string): string {
  return `${KAFKA_STACK_USER} ${createHash('sha256').update(password).digest('hex')}\n`;
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
  ports: (config) => [portOf(config.kafka.servers), kafkaControllerPort(config), kafkaSaslSslPort(config), kafkaSslPort(config)],
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
    await ensureStackTls(paths.stateDir);
    const plainPassword = stackCredential(paths.stateDir, PLAIN_CREDENTIAL).value;
    const serverProperties = join(dataDir, 'server.properties');
    writeFileSync(serverProperties, renderServerProperties(paths, config, dataDir, plainPassword), { mode: 0o600 });
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
      // A new cluster has no SCRAM credentials, whatever an old marker says.
      rmSync(join(dataDir, 'scram-users'), { force: true });
    }
    return { command: 'java', args: javaArgs(paths, dataDir, 'kafka.Kafka', [serverProperties]), cwd: dataDir };
  },
  outdated(paths, config, dataDir) {
    const file = join(dataDir, 'server.properties');
    if (!existsSync(file)) return undefined;
    const plainPassword = existingStackCredential(paths.stateDir, PLAIN_CREDENTIAL);
    if (plainPassword === undefined) return 'it was started without the SASL_SSL and SSL listeners';
    return readFileSync(file, 'utf8') === renderServerProperties(paths, config, dataDir, plainPassword)
      ? undefined
      : 'infra/kafka/server.properties or the kafka settings changed since it started';
  },
  async afterStart(paths, config, dataDir, log) {
    // SCRAM credentials live in the cluster metadata, so they are set through the running broker
    // (this also covers a data folder formatted before the secured listeners existed).
    const password = stackCredential(paths.stateDir, SCRAM_CREDENTIAL).value;
    const marker = join(dataDir, 'scram-users');
    if (existsSync(marker) && readFileSync(marker, 'utf8') === scramMarker(password)) return;
    // The password goes in a file, not on the command line (where ps and error messages would show it);
    // the broker takes one mechanism per user and request.
    const configFile = join(dataDir, 'scram-credentials.properties');
    try {
      for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        writeFileSync(configFile, `${mechanism}=password=${password}\n`, { mode: 0o600 });
        await runInstallCommand(
          'kafka',
          'java',
          javaArgs(paths, dataDir, 'kafka.admin.ConfigCommand', [
            '--bootstrap-server',
            config.kafka.servers.split(',')[0]!,
            '--alter',
            '--entity-type',
            'users',
            '--entity-name',
            KAFKA_STACK_USER,
            '--add-config-file',
            configFile,
          ]),
          { redact: [password] },
        );
      }
    } finally {
      rmSync(configFile, { force: true });
    }
    writeFileSync(marker, scramMarker(password));
    log(`created SCRAM-SHA-256 and SCRAM-SHA-512 credentials for user ${KAFKA_STACK_USER}`);
  },
  async healthy(config) {
    let kafka: ReturnType<typeof createKafkaClient> | undefined;
    try {
      kafka = createKafkaClient(
        { ...config.kafka, client_id: 'logstream-stack-health' },
        { connectionTimeoutMs: 1500, requestTimeoutMs: 3000, retries: 0, quiet: true },
      );
      const cluster = await kafka.describeCluster();
      return cluster.brokers > 0 && cluster.controller !== -1;
    } catch {
      return false;
    } finally {
      await kafka?.close().catch(() => undefined);
    }
  },
  version(paths) {
    const file = join(paths.cacheDir, 'kafka', 'VERSION');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : '-';
  },
};
