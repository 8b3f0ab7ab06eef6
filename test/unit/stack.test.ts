// Pure parts of the local stack: pid records, /proc parsing, templates, tables, service selection.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../config/errors.js';
import { configSchema } from '../../config/schema.js';
import { lastLines } from '../../infra/stack/logTail.js';
import { repositoryInfraDir, selectServices } from '../../infra/stack/manager.js';
import {
  formatPidRecord,
  isSameProcess,
  parseCmdline,
  parsePidRecord,
  parseStartTicks,
  type PidRecord,
} from '../../infra/stack/pidRecord.js';
import { describeProcess, hostOf, parseListeningSockets, portOf, socketInode, urlPort } from '../../infra/stack/ports.js';
import type { ServiceSpec } from '../../infra/stack/service.js';
import { clusterIdArgument, kafkaService, newClusterId, renderServerProperties, renderTemplate } from '../../infra/stack/services/kafka.js';
import { parsePrometheusVersion } from '../../infra/stack/services/prometheus.js';
import { parseTemporalVersion } from '../../infra/stack/services/temporal.js';
import { formatStatusTable } from '../../infra/stack/statusTable.js';

const record: PidRecord = {
  pid: 4242,
  command: ['java', '-cp', '/cache/kafka/libs/*', 'kafka.Kafka', '/state/kafka/server.properties'],
  startTicks: 987654,
  startedAt: '2026-11-28T12:00:00.000Z',
};
const cmdlineOf = (argv: string[]) => `${argv.join('\0')}\0`;

test('a pid record survives its file format', () => {
  assert.deepEqual(parsePidRecord(formatPidRecord(record)), record);
});

test('pid files that are not ours are ignored rather than trusted', () => {
  for (const text of [
    '',
    '4242',
    '{"pid": 4242}',
    '{"pid": 1, "command": ["init"]}',
    '{"pid": "4242", "command": ["java"]}',
    '{"pid": 4242, "command": []}',
    'not json',
  ]) {
    assert.equal(parsePidRecord(text), undefined, text);
  }
});

test('the recorded process is recognised by its argv and start time', () => {
  assert.equal(isSameProcess(record, { cmdline: cmdlineOf(record.command), startTicks: 987654 }), true);
  // Start time unreadable: argv alone decides.
  assert.equal(isSameProcess(record, { cmdline: cmdlineOf(record.command) }), true);
});

test('a recycled pid (another program, or the same program started again) is never taken for ours', () => {
  assert.equal(isSameProcess(record, { cmdline: cmdlineOf(['bash', '-l']), startTicks: 987654 }), false);
  assert.equal(isSameProcess(record, { cmdline: cmdlineOf(record.command), startTicks: 1_000_000 }), false);
  assert.equal(isSameProcess(record, { cmdline: cmdlineOf([...record.command, '--extra']) }), false);
  assert.equal(isSameProcess(record, {}), false, 'a pid that is gone');
});

test('cmdline and stat parsing copes with NUL terminators and odd command names', () => {
  assert.deepEqual(parseCmdline('a\0b c\0\0d\0'), ['a', 'b c', '', 'd']);
  const fields = Array.from({ length: 50 }, (_, index) => String(index + 3));
  fields[0] = 'S';
  fields[19] = '123456';
  assert.equal(parseStartTicks(`77 (we ird) (name)) ${fields.join(' ')}`), 123456);
  assert.equal(parseStartTicks('garbage'), undefined);
});

test('listening sockets are read from /proc/net/tcp, other states are skipped', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55501 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:2384 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 55999 1 0000000000000000 20 4 30 10 -1',
    '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55502 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.deepEqual(parseListeningSockets(table), [
    { port: 9092, inode: 55501 },
    { port: 8080, inode: 55502 },
  ]);
  assert.equal(socketInode('socket:[55501]'), 55501);
  assert.equal(socketInode('/dev/null'), undefined);
  assert.equal(describeProcess(12, 'prometheus\0--config.file=x\0'), 'pid 12 (prometheus --config.file=x)');
});

test('ports and hosts come out of the configured addresses', () => {
  assert.equal(portOf('127.0.0.1:9092,127.0.0.1:9094'), 9092);
  assert.equal(hostOf('broker-1:9092'), 'broker-1');
  assert.equal(urlPort('http://127.0.0.1:5000'), 5000);
  assert.equal(urlPort('https://mlflow.example.com'), 443);
  assert.equal(urlPort('http://localhost/'), 80);
});

test('the Kafka template is rendered completely or not at all', () => {
  assert.equal(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the placeholder syntax of infra/kafka/server.properties
    renderTemplate('listeners=PLAINTEXT://${HOST}:${PORT}', { HOST: '127.0.0.1', PORT: '9092' }),
    'listeners=PLAINTEXT://127.0.0.1:9092',
  );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the same placeholder syntax
  assert.throws(() => renderTemplate('log.dirs=${LOG_DIRS}', {}), /LOG_DIRS/);
  assert.match(newClusterId(), /^[A-Za-z0-9_-]{22}$/);
  // An id starting with "-" must not read as an option of the storage tool.
  assert.equal(clusterIdArgument('-AbCdEfGhIjKlMnOpQrStU'), '--cluster-id=-AbCdEfGhIjKlMnOpQrStU');
});

test('the broker gets its secured listeners, and a broker started with an older server.properties is outdated', () => {
  const state = mkdtempSync(join(tmpdir(), 'logstream-kafka-render-'));
  const config = configSchema.parse({ stack: { state_dir: state } });
  const paths = { cacheDir: join(state, 'cache'), stateDir: state, infraDir: repositoryInfraDir };
  const dataDir = join(state, 'kafka');
  const rendered = renderServerProperties(paths, config, dataDir, 'plain-password');
  assert.match(
    rendered,
    /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:9092,CONTROLLER:\/\/127\.0\.0\.1:9093,SASL_SSL:\/\/127\.0\.0\.1:9094,SSL:\/\/127\.0\.0\.1:9095$/m,
  );
  assert.match(rendered, /^listener\.name\.ssl\.ssl\.client\.auth=required$/m);
  assert.match(rendered, /^listener\.name\.sasl_ssl\.sasl\.enabled\.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512$/m);
  assert.ok(rendered.includes('user_logstream="plain-password";'));
  assert.ok(rendered.includes(`ssl.truststore.location=${join(state, 'tls', 'ca.pem')}`));

  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'server.properties'), 'listeners=PLAINTEXT://127.0.0.1:9092\n');
  assert.match(kafkaService.outdated!(paths, config, dataDir) ?? '', /without the SASL_SSL and SSL listeners/);
  mkdirSync(join(state, 'credentials'));
  writeFileSync(join(state, 'credentials', 'kafka-plain-password'), 'plain-password\n');
  assert.match(kafkaService.outdated!(paths, config, dataDir) ?? '', /server\.properties or the kafka settings changed/);
  writeFileSync(join(dataDir, 'server.properties'), rendered);
  assert.equal(kafkaService.outdated!(paths, config, dataDir), undefined);
});

test('versions are read from what the programs print', () => {
  assert.equal(parseTemporalVersion('temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)\n'), 'server 1.29.1, ui 2.42.1');
  assert.equal(parsePrometheusVersion('prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5+deb12u1)\n'), '2.42.0+ds');
});

test('the last lines of a log ignore the final newline', () => {
  assert.deepEqual(lastLines('a\nb\nc\n', 2), ['b', 'c']);
  assert.deepEqual(lastLines('a', 5), ['a']);
  assert.deepEqual(lastLines('a\nb\n', 0), []);
});

test('the status table lines up and says what each service is doing', () => {
  const table = formatStatusTable([
    { service: 'temporal', state: 'running', healthy: true, url: '127.0.0.1:7233', version: 'cli v1.5.1', installed: true, pid: 101 },
    { service: 'kafka', state: 'stopped', healthy: false, url: '127.0.0.1:9092', version: '-', installed: false },
    { service: 'mlflow', state: 'external', healthy: false, url: 'http://mlflow:5000', version: '(external)', installed: false },
  ]);
  assert.equal(
    table,
    [
      'SERVICE   STATE     HEALTH     PID  VERSION     URL',
      'temporal  running   healthy    101  cli v1.5.1  127.0.0.1:7233',
      'kafka     stopped   -          -    -           127.0.0.1:9092',
      'mlflow    external  unhealthy  -    (external)  http://mlflow:5000',
      '',
    ].join('\n'),
  );
});

test('services are selected by name; no names means every non-optional one; unknown names are a usage error', () => {
  const spec = (name: string, optional = false) => ({ name, optional }) as ServiceSpec;
  const all = [spec('temporal'), spec('kafka'), spec('elasticsearch', true)];
  assert.deepEqual(
    selectServices(all, []).map((service) => service.name),
    ['temporal', 'kafka'],
  );
  assert.deepEqual(
    selectServices(all, ['elasticsearch', 'kafka', 'kafka']).map((service) => service.name),
    ['elasticsearch', 'kafka'],
  );
  assert.throws(
    () => selectServices(all, ['zookeeper']),
    (error: unknown) =>
      error instanceof UsageError && /zookeeper/.test(error.message) && /temporal, kafka, elasticsearch/.test(error.hint ?? ''),
  );
});

test('a process that renames itself (nginx) is still recognised by its title, with the NUL padding it leaves', () => {
  const nginx: PidRecord = {
    pid: 4242,
    command: ['/usr/sbin/nginx', '-c', '/state/nginx/nginx.conf'],
    title: 'nginx: master process /usr/sbin/nginx -c /state/nginx/nginx.conf',
    startTicks: 7,
    startedAt: '',
  };
  assert.deepEqual(parsePidRecord(formatPidRecord(nginx)), nginx);
  assert.ok(isSameProcess(nginx, { cmdline: '/usr/sbin/nginx\0-c\0/state/nginx/nginx.conf\0', startTicks: 7 }), 'before it renames itself');
  assert.ok(isSameProcess(nginx, { cmdline: `${nginx.title}\0\0\0\0`, startTicks: 7 }), 'after');
  assert.ok(!isSameProcess(nginx, { cmdline: 'nginx: worker process\0\0', startTicks: 7 }));
  assert.ok(!isSameProcess(nginx, { cmdline: `${nginx.title}\0`, startTicks: 8 }), 'a recycled pid');
});
