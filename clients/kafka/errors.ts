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
