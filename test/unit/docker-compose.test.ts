// docker-compose.yml must offer every service the default configuration points at, on the same ports.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../config/load.js';
import { stackServices } from '../../infra/stack/services/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  network_mode?: string;
  command?: string[] | string;
  volumes?: string[];
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const { config } = loadConfig({ env: {}, cwd: root, configFile: undefined });

function portOf(address: string): number {
  const match = /:(\d+)(?:\/|$)/.exec(address);
  assert.ok(match, `no port in ${address}`);
  return Number(match[1]);
}

/** Host ports a compose service is reachable on. */
function hostPorts(name: string): number[] {
  const service = compose.services[name];
  assert.ok(service, `docker-compose.yml has no service "${name}"`);
  if (service.network_mode === 'host') {
    const command = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
    return [...command.matchAll(/listen-address=[^:\s]*:(\d+)/g)].map((match) => Number(match[1]));
  }
  return (service.ports ?? []).map((mapping) => Number(String(mapping).split(':').at(-2)));
}

describe('docker-compose.yml', () => {
  it('has the stack services plus Elasticsearch, Kibana and Grafana', () => {
    for (const name of ['temporal', 'kafka', 'mlflow', 'opensearch', 'elasticsearch', 'kibana', 'prometheus', 'grafana']) {
      assert.ok(compose.services[name]?.image, `service ${name} with an image`);
    }
  });

  it('offers every service of the local stack under the same name and ports', () => {
    // The TLS and auth fronts are test fixtures of the process stack only.
    for (const service of stackServices.filter((candidate) => !candidate.processStackOnly)) {
      const ports = hostPorts(service.name);
      const httpPort = service.ports(config)[0]!;
      assert.ok(ports.includes(httpPort), `${service.name}: the stack listens on ${httpPort}, compose exposes ${ports.join(', ')}`);
    }
  });

  it('exposes each address of the default configuration on the same port', () => {
    const expectations: Array<[string, string, number]> = [
      ['kafka.servers', 'kafka', portOf(config.kafka.servers)],
      ['temporal.address', 'temporal', portOf(config.temporal.address)],
      ['temporal.ui_port', 'temporal', config.temporal.ui_port],
      ['mlflow.tracking_uri', 'mlflow', portOf(config.mlflow.tracking_uri)],
      ['elasticsearch.host', config.elasticsearch.kind, portOf(config.elasticsearch.host)],
      ['prometheus.url', 'prometheus', portOf(config.prometheus.url)],
    ];
    for (const [key, service, port] of expectations) {
      assert.ok(
        hostPorts(service).includes(port),
        `${key} uses port ${port}, but compose service ${service} exposes ${hostPorts(service).join(', ') || 'nothing'}`,
      );
    }
  });

  it('publishes ports on 127.0.0.1 only, and host-network services listen on 127.0.0.1', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const mapping of service.ports ?? []) {
        assert.match(String(mapping), /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${mapping} on every interface`);
      }
      if (service.network_mode !== 'host') continue;
      const command = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
      const listen = [...command.matchAll(/listen-address=([^:\s]*):\d+/g)].map((match) => match[1]);
      const httpAddress = service.environment?.GF_SERVER_HTTP_ADDR;
      assert.ok(listen.length > 0 || httpAddress !== undefined, `${name} on the host network says where it listens`);
      for (const address of [...listen, ...(httpAddress === undefined ? [] : [httpAddress])])
        assert.equal(address, '127.0.0.1', `${name} listens on ${address}`);
    }
  });

  it('runs the same versions the local stack installs', () => {
    assert.match(compose.services.temporal!.image!, /:1\.5\.1$/);
    assert.match(compose.services.opensearch!.image!, /:2\.19\./);
    assert.match(compose.services.elasticsearch!.image!, /:7\.17\./);
  });

  it('mounts files that exist in the repository (Prometheus config, Grafana provisioning)', () => {
    const mounts = Object.values(compose.services)
      .flatMap((service) => service.volumes ?? [])
      .filter((volume) => volume.startsWith('./'));
    assert.ok(
      mounts.some((mount) => mount.startsWith('./infra/grafana/provisioning:')),
      'grafana provisioning is mounted',
    );
    assert.ok(
      mounts.some((mount) => mount.startsWith('./infra/prometheus.yml:')),
      'prometheus.yml is mounted',
    );
    for (const mount of mounts) {
      const hostPath = mount.split(':')[0]!;
      assert.ok(existsSync(join(root, hostPath)), `${hostPath} exists`);
    }
  });
});
