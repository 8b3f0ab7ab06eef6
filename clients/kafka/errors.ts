import { LogstreamError } from '../../config/errors.js';

/** No Kafka broker answered at the configured bootstrap servers. */
export class KafkaUnavailableError extends LogstreamError {
  readonly servers: string;

  constructor(servers: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot reach Kafka at ${servers}: ${reason}`, {
      cause,
      hint: 'start the local stack with `logstream stack up`, or point kafka.servers (LOGSTREAM_KAFKA_SERVERS) at a running broker',
    });
    this.servers = servers;
  }
}

/** A broker refused the SASL credentials (or does not offer the mechanism). */
export class KafkaAuthenticationError extends LogstreamError {
  readonly servers: string;
  readonly mechanism: string;
  readonly username: string;

  constructor(details: { servers: string; broker?: string; mechanism: string; username: string; cause: unknown }) {
    const reason = details.cause instanceof Error ? details.cause.message : String(details.cause);
    const where = details.broker ? `Kafka broker ${details.broker}` : `Kafka at ${details.servers}`;
    super(`${where} refused SASL ${details.mechanism} authentication as user "${details.username}": ${reason}`, {
      cause: details.cause,
      hint: /not supported by the server/.test(reason)
        ? `the broker does not enable ${details.mechanism}: set kafka.sasl_mechanism to one it enables (sasl.enabled.mechanisms)`
        : `check kafka.sasl_username and kafka.sasl_password (and that the broker has a ${details.mechanism} credential for this user)`,
    });
    this.servers = details.servers;
    this.mechanism = details.mechanism;
    this.username = details.username;
  }
}
