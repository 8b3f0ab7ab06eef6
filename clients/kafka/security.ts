// kafka.security_protocol, SASL and TLS settings as kafkajs options. Secrets are resolved here, when
// a client is made, so the configuration itself only ever holds their references.
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { PipelineConfig } from '../../config/schema.js';
import { resolveSecret } from '../../config/secrets.js';
import { readPemFile } from '../tls.js';

type KafkaConfig = PipelineConfig['kafka'];

/** The connection settings of kafka.*; everything but the servers is optional (plaintext, anonymous). */
export type KafkaSecuritySettings = Partial<
  Pick<
    KafkaConfig,
    'security_protocol' | 'sasl_mechanism' | 'sasl_username' | 'sasl_password' | 'tls_ca_file' | 'tls_cert_file' | 'tls_key_file'
  >
>;

export interface KafkaSecurityOptions {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
}

export const kafkaTlsKeys = {
  ca: 'kafka.tls_ca_file',
  cert: 'kafka.tls_cert_file',
  key: 'kafka.tls_key_file',
  turnOff: 'set kafka.security_protocol to PLAINTEXT (or SASL_PLAINTEXT)',
};

/** kafkajs `ssl` and `sasl` for the settings (reads the PEM files and resolves the password). */
export function kafkaSecurityOptions(settings: KafkaSecuritySettings, env: NodeJS.ProcessEnv = process.env): KafkaSecurityOptions {
  const protocol = settings.security_protocol ?? 'PLAINTEXT';
  const options: KafkaSecurityOptions = {};
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    options.ssl = {
      rejectUnauthorized: true,
      ...(settings.tls_ca_file ? { ca: readPemFile(settings.tls_ca_file, kafkaTlsKeys.ca) } : {}),
      ...(settings.tls_cert_file ? { cert: readPemFile(settings.tls_cert_file, kafkaTlsKeys.cert) } : {}),
      ...(settings.tls_key_file ? { key: readPemFile(settings.tls_key_file, kafkaTlsKeys.key) } : {}),
    };
  }
  if (protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT') {
    const username = resolveSecret(settings.sasl_username, 'kafka.sasl_username', env) ?? '';
    const password = resolveSecret(settings.sasl_password, 'kafka.sasl_password', env) ?? '';
    const mechanism = settings.sasl_mechanism ?? 'PLAIN';
    options.sasl =
      mechanism === 'PLAIN'
        ? { mechanism: 'plain', username, password }
        : mechanism === 'SCRAM-SHA-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return options;
}

/** "SASL_SSL with SCRAM-SHA-512 as user x", for messages. */
export function describeKafkaSecurity(settings: KafkaSecuritySettings): string {
  const protocol = settings.security_protocol ?? 'PLAINTEXT';
  if (!protocol.startsWith('SASL_')) return protocol;
  return `${protocol} with ${settings.sasl_mechanism ?? 'PLAIN'}`;
}
