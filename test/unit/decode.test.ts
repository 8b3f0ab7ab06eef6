import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { decodeLine, decodeMessage, type DecodeResult } from '../../logs/decode.js';
import { parseCombinedDate } from '../../logs/combined.js';
import { isIpAddress } from '../../logs/validate.js';
import { APACHE_LOG } from '../helpers/fixtures.js';

const NOW_MS = Date.parse('2026-06-01T12:00:00Z');
const options = { maxMessageBytes: 64 * 1024, nowMs: NOW_MS };

const generatorLine = {
  timestamp: '2026-06-01T11:59:58.250Z',
  client_ip: '10.1.2.3',
  method: 'GET',
  path: '/products/1234?color=red',
  status: 200,
  response_time_ms: 42.5,
  bytes: 5120,
  referrer: 'https://example.com/',
  user_agent: 'Mozilla/5.0',
  label: 'normal',
};

function decodeJson(value: unknown): DecodeResult {
  return decodeMessage(Buffer.from(JSON.stringify(value)), options);
}

function rejectionCode(result: DecodeResult): string {
  assert.equal(result.ok, false, 'expected a rejection');
  return result.ok ? '' : result.rejection.code;
}

describe('decodeMessage: JSON lines', () => {
  it('reads the generator format into the canonical event', () => {
    const result = decodeJson(generatorLine);
    assert.ok(result.ok);
    assert.deepEqual(result.event, {
      timestampMs: Date.parse('2026-06-01T11:59:58.250Z'),
      clientIp: '10.1.2.3',
      method: 'GET',
      path: '/products/1234',
      query: 'color=red',
      pathTemplate: '/products/{id}',
      status: 200,
      responseTimeMs: 42.5,
      responseBytes: 5120,
      referrer: 'https://example.com/',
      userAgent: 'Mozilla/5.0',
      label: 'normal',
    });
  });

  it('reads nested ECS names, event.duration in nanoseconds', () => {
    const result = decodeJson({
      '@timestamp': '2026-06-01T11:00:00Z',
      source: { ip: '2001:db8::1' },
      http: { request: { method: 'post' }, response: { status_code: 503, body: { bytes: 12 } } },
      url: { original: '/api/orders/9?x=1' },
      user_agent: { original: 'curl/8.0' },
      event: { duration: 250_000_000 },
    });
    assert.ok(result.ok);
    assert.equal(result.event.clientIp, '2001:db8::1');
    assert.equal(result.event.method, 'POST');
    assert.equal(result.event.path, '/api/orders/9');
    assert.equal(result.event.query, 'x=1');
    assert.equal(result.event.status, 503);
    assert.equal(result.event.responseBytes, 12);
    assert.equal(result.event.responseTimeMs, 250);
    assert.equal(result.event.userAgent, 'curl/8.0');
    assert.equal(result.event.label, null);
  });

  it('reads flattened dotted ECS keys and client.ip, url.path', () => {
    const result = decodeJson({
      '@timestamp': 1780310000000,
      'client.ip': '192.168.0.9',
      'http.request.method': 'DELETE',
      'url.path': '/users/abc',
      'http.response.status_code': 204,
    });
    assert.ok(result.ok);
    assert.equal(result.event.clientIp, '192.168.0.9');
    assert.equal(result.event.responseBytes, 0);
    assert.equal(result.event.responseTimeMs, null);
    assert.equal(result.event.timestampMs, 1780310000000);
  });
});

describe('decodeMessage: combined log lines', () => {
  const line =
    '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/" "Mozilla/5.0 (Macintosh)"';

  it('reads an Apache combined line', () => {
    const result = decodeLine(line, NOW_MS);
    assert.ok(result.ok);
    assert.equal(result.event.timestampMs, Date.UTC(2015, 4, 17, 10, 5, 3));
    assert.equal(result.event.clientIp, '83.149.9.216');
    assert.equal(result.event.path, '/presentations/images/kibana-search.png');
    assert.equal(result.event.status, 200);
    assert.equal(result.event.responseBytes, 203023);
    assert.equal(result.event.responseTimeMs, null);
    assert.equal(result.event.referrer, 'http://semicomplete.com/presentations/');
    assert.equal(result.event.userAgent, 'Mozilla/5.0 (Macintosh)');
  });

  it('reads a trailing response time: Nginx seconds, Apache microseconds, rt=', () => {
    const nginx = decodeLine(`${line} 0.125`, NOW_MS);
    const apache = decodeLine(`${line} 125000`, NOW_MS);
    const labelled = decodeLine(`${line} rt=0.5`, NOW_MS);
    assert.ok(nginx.ok && apache.ok && labelled.ok);
    assert.equal(nginx.event.responseTimeMs, 125);
    assert.equal(apache.event.responseTimeMs, 125);
    assert.equal(labelled.event.responseTimeMs, 500);
  });

  it('reads common-format lines, "-" bytes, escaped quotes and time-zone offsets', () => {
    const result = decodeLine('10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a\\"b HTTP/1.0" 304 -', NOW_MS);
    assert.ok(result.ok);
    assert.equal(result.event.path, '/a"b');
    assert.equal(result.event.responseBytes, 0);
    assert.equal(result.event.timestampMs, Date.UTC(2000, 9, 10, 20, 55, 36));
    assert.equal(parseCombinedDate('31/Feb/2015:10:00:00 +0000'), undefined);
  });

  it('parses every complete line of the 2015 Apache sample; the cut-off last line is unparseable', () => {
    const lines = readFileSync(APACHE_LOG, 'utf8')
      .split('\n')
      .filter((text) => text.length > 0);
    const failures = lines.map((text) => decodeLine(text, NOW_MS)).filter((result) => !result.ok);
    assert.equal(lines.length, 10_000);
    assert.deepEqual(
      failures.map((result) => (result.ok ? '' : result.rejection.code)),
      ['unparseable'],
    );
  });
});

describe('client addresses', () => {
  it('accepts exactly what net.isIP accepts', () => {
    const samples = [
      '203.0.113.7',
      '0.0.0.0',
      '255.255.255.255',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.4.',
      '.1.2.3.4',
      '1..2.3',
      '1.2.3.-4',
      '1.2.3.4 ',
      '',
      '::1',
      '2001:db8::8a2e:370:7334',
      '::ffff:192.0.2.1',
      'fe80::1%eth0',
      'example.com',
      '1.2.3.1000',
    ];
    // And some random dotted text.
    let state = 7;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state;
    };
    for (let count = 0; count < 5_000; count++) {
      const parts = 3 + (next() % 3);
      samples.push(Array.from({ length: parts }, () => String(next() % 400).padStart(1 + (next() % 3 === 0 ? 1 : 0), '0')).join('.'));
    }
    for (const sample of samples) assert.equal(isIpAddress(sample), isIP(sample) !== 0, JSON.stringify(sample));
  });
});

describe('decodeMessage: text encodings', () => {
  it('reads ASCII and UTF-8 messages alike, from a Buffer or any Uint8Array', () => {
    const line = { ...generatorLine, path: '/caf\u00e9/\u65e5\u672c', user_agent: 'Mozilla/5.0 (\u00fcber) \ud83d\ude80' };
    const text = JSON.stringify(line);
    for (const value of [Buffer.from(text), new Uint8Array(Buffer.from(text)), Buffer.from(JSON.stringify(generatorLine))]) {
      const decoded = decodeMessage(value, options);
      assert.ok(decoded.ok, JSON.stringify(decoded));
      const expected = JSON.parse(Buffer.from(value).toString('utf8'));
      assert.equal(decoded.event.path, expected.path.split('?')[0]);
      assert.equal(decoded.event.userAgent, expected.user_agent);
    }
    // Latin-1 bytes are not UTF-8: refused, never read as Latin-1.
    const latin1 = Buffer.from(JSON.stringify({ ...generatorLine, path: '/caf\u00e9' }), 'latin1');
    const refused = decodeMessage(latin1, options);
    assert.ok(!refused.ok && refused.rejection.code === 'invalid_utf8');
  });
});

describe('decodeMessage: every rejection reason', () => {
  const cases: Array<[string, DecodeResult, string]> = [
    ['empty', decodeMessage(Buffer.alloc(0), options), 'empty'],
    ['null value', decodeMessage(null, options), 'empty'],
    ['blank line', decodeLine('   ', NOW_MS), 'empty'],
    ['oversize', decodeMessage(Buffer.alloc(70_000, 0x20), options), 'oversize'],
    ['invalid UTF-8', decodeMessage(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), options), 'invalid_utf8'],
    ['broken JSON', decodeMessage(Buffer.from('{"timestamp": '), options), 'unparseable'],
    ['plain text', decodeLine('hello world', NOW_MS), 'unparseable'],
    ['JSON array', decodeLine('[1,2]', NOW_MS), 'not_an_object'],
    ['missing status', decodeJson({ ...generatorLine, status: undefined }), 'missing_field'],
    ['missing path', decodeJson({ ...generatorLine, path: undefined }), 'missing_field'],
    ['status as string', decodeJson({ ...generatorLine, status: 'OK' }), 'wrong_type'],
    ['bytes as string', decodeJson({ ...generatorLine, bytes: '12' }), 'wrong_type'],
    ['ip as number', decodeJson({ ...generatorLine, client_ip: 12 }), 'wrong_type'],
    ['response time as string', decodeJson({ ...generatorLine, response_time_ms: 'fast' }), 'wrong_type'],
    ['timestamp garbage', decodeJson({ ...generatorLine, timestamp: 'yesterday' }), 'bad_timestamp'],
    ['timestamp before 1995', decodeJson({ ...generatorLine, timestamp: '1990-01-01T00:00:00Z' }), 'timestamp_out_of_range'],
    ['timestamp far in the future', decodeJson({ ...generatorLine, timestamp: '2030-01-01T00:00:00Z' }), 'timestamp_out_of_range'],
    ['bad ip', decodeJson({ ...generatorLine, client_ip: '999.1.1.1' }), 'bad_ip'],
    ['bad method', decodeJson({ ...generatorLine, method: 'G E T' }), 'bad_method'],
    ['bad path', decodeJson({ ...generatorLine, path: 'products' }), 'bad_path'],
    ['status 777', decodeJson({ ...generatorLine, status: 777 }), 'status_out_of_range'],
    ['status 42', decodeJson({ ...generatorLine, status: 42 }), 'status_out_of_range'],
    ['negative bytes', decodeJson({ ...generatorLine, bytes: -5 }), 'negative_bytes'],
    ['negative response time', decodeJson({ ...generatorLine, response_time_ms: -1 }), 'bad_response_time'],
    ['combined bad date', decodeLine('1.2.3.4 - - [99/Foo/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', NOW_MS), 'bad_timestamp'],
    ['combined bad request', decodeLine('1.2.3.4 - - [17/May/2015:10:05:03 +0000] "\\x16\\x03" 400 1 "-" "-"', NOW_MS), 'bad_request_line'],
    ['combined status text', decodeLine('1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" OK 1 "-" "-"', NOW_MS), 'wrong_type'],
    [
      'combined status 999',
      decodeLine('1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 999 1 "-" "-"', NOW_MS),
      'status_out_of_range',
    ],
    [
      'combined negative bytes',
      decodeLine('1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 -4 "-" "-"', NOW_MS),
      'negative_bytes',
    ],
  ];
  for (const [name, result, code] of cases) {
    it(`${name} -> ${code}`, () => {
      assert.equal(rejectionCode(result), code);
      assert.ok(!result.ok && result.rejection.message.length > 0 && result.rejection.message.length < 200);
    });
  }
});
