// Field mappings and presets: each preset reads a real-looking line of its kind; numbers as
// strings, units, per-topic choice, the missing-field reason; time zones and the event-time window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { ConfigError } from '../../config/errors.js';
import { decodeLine, decodeMessage, type DecodeResult } from '../../logs/decode.js';
import { createDecoder, DEFAULT_DECODE_SETTINGS, type DecodeSettings } from '../../logs/decoder.js';
import type { LogEvent } from '../../logs/record.js';

const NOW_MS = Date.parse('2026-06-01T12:00:00Z');

function decoder(mappings: string[], settings: Partial<DecodeSettings> = {}, window = false) {
  return createDecoder({ ...DEFAULT_DECODE_SETTINGS, ...settings }, { mappings, window });
}

function decoded(result: DecodeResult): LogEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.rejection.code}: ${result.rejection.message}`);
  return result.event;
}

function rejected(result: DecodeResult): { code: string; message: string } {
  assert.ok(!result.ok, 'expected a rejection');
  return result.rejection;
}

describe('presets read a real-looking line of their kind', () => {
  it('logstream: the generator names', () => {
    const line = JSON.stringify({
      timestamp: '2026-06-01T11:59:58.250Z',
      client_ip: '10.1.2.3',
      method: 'GET',
      path: '/products/1234?color=red',
      status: 200,
      response_time_ms: 42.5,
      bytes: 5120,
      referrer: null,
      user_agent: 'Mozilla/5.0',
      label: 'normal',
    });
    const event = decoded(decodeLine(line, NOW_MS, decoder(['logstream'])));
    assert.equal(event.timestampMs, Date.parse('2026-06-01T11:59:58.250Z'));
    assert.equal(event.path, '/products/1234');
    assert.equal(event.query, 'color=red');
    assert.equal(event.responseTimeMs, 42.5);
    assert.equal(event.label, 'normal');
  });

  it('ecs: nested objects, event.duration in nanoseconds', () => {
    const line = JSON.stringify({
      '@timestamp': '2026-06-01T11:00:00.000Z',
      source: { ip: '2001:db8::1' },
      http: { request: { method: 'GET', referrer: 'https://example.com/' }, response: { status_code: 304, body: { bytes: 0 } } },
      url: { path: '/static/app.js', query: 'v=3' },
      user_agent: { original: 'curl/8.5.0' },
      event: { duration: 1_500_000 },
    });
    const event = decoded(decodeLine(line, NOW_MS, decoder(['ecs'])));
    assert.equal(event.clientIp, '2001:db8::1');
    assert.equal(event.query, 'v=3');
    assert.equal(event.responseTimeMs, 1.5);
    assert.equal(event.referrer, 'https://example.com/');
  });

  it('python_pipeline: ip, endpoint, status_code, response_time in ms, a zone-less timestamp with microseconds', () => {
    const line = JSON.stringify({
      timestamp: '2026-06-01T11:58:01.123456',
      ip: '192.168.1.20',
      method: 'POST',
      endpoint: '/api/orders',
      status_code: 201,
      response_time: 87,
      bytes: 342,
      user_agent: 'python-requests/2.31.0',
    });
    const event = decoded(decodeLine(line, NOW_MS, decoder(['python_pipeline'])));
    assert.equal(event.timestampMs, Date.UTC(2026, 5, 1, 11, 58, 1, 123));
    assert.equal(event.clientIp, '192.168.1.20');
    assert.equal(event.path, '/api/orders');
    assert.equal(event.status, 201);
    assert.equal(event.responseTimeMs, 87);
    assert.equal(event.responseBytes, 342);
  });

  it('nginx_json: time_iso8601, request_uri split into path and query, strings for status, seconds and bytes', () => {
    // log_format json escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr",...}'
    const line =
      '{"time_iso8601":"2026-06-01T13:59:59+02:00","remote_addr":"203.0.113.7","request_method":"GET","request_uri":"/search?q=shoes&page=2","status":"200","body_bytes_sent":"1532","request_time":"0.087","http_referer":"","http_user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}';
    const event = decoded(decodeLine(line, NOW_MS, decoder(['nginx_json'])));
    assert.equal(event.timestampMs, Date.UTC(2026, 5, 1, 11, 59, 59));
    assert.equal(event.path, '/search');
    assert.equal(event.query, 'q=shoes&page=2');
    assert.equal(event.status, 200);
    assert.equal(event.responseBytes, 1532);
    assert.equal(event.responseTimeMs, 87);
    assert.equal(event.referrer, null);
  });

  it('nginx_json: msec (epoch seconds as a string) and $request instead of method and uri; $time_local', () => {
    const withMsec =
      '{"msec":"1780315199.250","remote_addr":"203.0.113.7","request":"DELETE /api/cart/9 HTTP/2.0","status":"204","body_bytes_sent":"0","request_time":"0.004","http_user_agent":"okhttp/4.12"}';
    const event = decoded(decodeLine(withMsec, NOW_MS, decoder(['nginx_json'])));
    assert.equal(event.timestampMs, 1_780_315_199_250);
    assert.equal(event.method, 'DELETE');
    assert.equal(event.path, '/api/cart/9');
    assert.equal(event.responseTimeMs, 4);
    const withTimeLocal =
      '{"time_local":"01/Jun/2026:07:59:59 -0400","remote_addr":"203.0.113.7","request":"GET / HTTP/1.1","status":"200","body_bytes_sent":"612","request_time":"0.000","http_referrer":"-","http_user_agent":"-"}';
    assert.equal(decoded(decodeLine(withTimeLocal, NOW_MS, decoder(['nginx_json']))).timestampMs, Date.UTC(2026, 5, 1, 11, 59, 59));
  });

  describe('combined with a response time appended', () => {
    const base =
      '198.51.100.4 - - [01/Jun/2026:11:59:00 +0000] "GET /cart HTTP/1.1" 200 2326 "https://shop.example/" "Mozilla/5.0 (Windows NT 10.0)"';
    const read = (line: string, mappings = ['combined']) => decoded(decodeLine(line, NOW_MS, decoder(mappings))).responseTimeMs;

    it('bare seconds (Nginx $request_time), rt= and request_time=, Apache %D microseconds', () => {
      assert.equal(read(`${base} 0.123`), 123);
      assert.equal(read(`${base} rt=0.123`), 123);
      assert.equal(read(`${base} request_time=1.500`), 1500);
      assert.equal(read(`${base} 123000`), 123);
      assert.equal(read(base), null);
    });

    it('the Nginx main format ("$http_x_forwarded_for") and the upstream_time format of the Nginx guide', () => {
      assert.equal(read(`${base} "-"`), null);
      assert.equal(read(`${base} "10.0.0.1, 10.0.0.2" 0.045`), 45);
      // The guide's format has no space before rt=.
      assert.equal(read(`${base}rt=0.250 uct="0.000" uht="0.200" urt="0.201"`), 250);
      assert.equal(read(`${base} rt=- uct="-"`), null);
    });

    it('a mapping with response_time_unit: Apache %T seconds or %{ms}T milliseconds', () => {
      const settings = { mappings: { apache_ms: { format: 'combined' as const, response_time_unit: 'ms' as const } } };
      const event = decoded(decodeLine(`${base} 87`, NOW_MS, decoder(['apache_ms'], settings)));
      assert.equal(event.responseTimeMs, 87);
      const seconds = { mappings: { apache_t: { format: 'combined' as const, response_time_unit: 's' as const } } };
      assert.equal(decoded(decodeLine(`${base} 2`, NOW_MS, decoder(['apache_t'], seconds))).responseTimeMs, 2000);
    });

    it('a line cut off inside its quotes is unparseable, not a response time', () => {
      assert.equal(rejected(decodeLine(`${base} "Mozilla/5.0 (cut`, NOW_MS, decoder(['combined']))).code, 'unparseable');
    });
  });
});

describe('custom mappings', () => {
  const settings: Partial<DecodeSettings> = {
    mappings: {
      gateway: {
        fields: {
          ts: { to: 'timestamp', unit: 's', accept_string: true },
          'peer.address': 'client_ip',
          verb: 'method',
          uri: 'path',
          code: { to: 'status', accept_string: true },
          latency_us: { to: 'response_time', unit: 'µs' },
          latency_ns: { to: 'response_time', unit: 'ns' },
          size: 'bytes',
        },
      },
    },
  };

  it('reads nested source paths, epoch seconds as strings and each unit', () => {
    const line = (extra: Record<string, unknown>) =>
      JSON.stringify({ ts: '1780315100.5', peer: { address: '10.9.8.7' }, verb: 'get', uri: '/x', code: '502', size: 10, ...extra });
    const event = decoded(decodeLine(line({ latency_us: 2500 }), NOW_MS, decoder(['gateway'], settings)));
    assert.equal(event.timestampMs, 1_780_315_100_500);
    assert.equal(event.clientIp, '10.9.8.7');
    assert.equal(event.method, 'GET');
    assert.equal(event.status, 502);
    assert.equal(event.responseTimeMs, 2.5);
    assert.equal(decoded(decodeLine(line({ latency_ns: 4_000_000 }), NOW_MS, decoder(['gateway'], settings))).responseTimeMs, 4);
  });

  it('a number given as a string is refused where the mapping does not accept strings, and says how to allow it', () => {
    const line = JSON.stringify({ timestamp: '2026-06-01T11:00:00Z', client_ip: '10.0.0.1', method: 'GET', path: '/', status: '200' });
    const reason = rejected(decodeLine(line, NOW_MS, decoder(['logstream'])));
    assert.equal(reason.code, 'wrong_type');
    assert.match(reason.message, /status "200" is a string, not a number \(the mapping does not set accept_string for it\)/);
    const notANumber = JSON.stringify({ ...JSON.parse(line), status: 'OK' });
    assert.match(rejected(decodeLine(notANumber, NOW_MS, decoder(['logstream']))).message, /status "OK" is not a number/);
  });

  it('is selected per topic in the configuration, and refused when it cannot work', () => {
    const { config } = loadConfig({
      env: {
        LOGSTREAM_DECODE_TOPICS: JSON.stringify({ 'nginx-access': ['nginx_json', 'combined'] }),
        LOGSTREAM_DECODE_MAPPINGS: JSON.stringify(settings.mappings),
        LOGSTREAM_DECODE_USE: 'logstream,gateway',
      },
      cwd: '/',
    });
    assert.deepEqual(createDecoder(config.decode, { topic: 'nginx-access', window: true }).mappingNames, ['nginx_json', 'combined']);
    assert.deepEqual(createDecoder(config.decode, { topic: 'web-logs', window: true }).mappingNames, ['logstream', 'gateway']);
    const refuse = (env: Record<string, string>) =>
      assert.throws(
        () => loadConfig({ env, cwd: '/' }),
        (error: unknown) => error instanceof ConfigError && /decode\./.test(error.message),
      );
    refuse({ LOGSTREAM_DECODE_USE: 'logstream,nginx' });
    refuse({ LOGSTREAM_DECODE_MAPPINGS: '{"mine":{"fields":{"t":"timestamp"}}}' });
    refuse({ LOGSTREAM_DECODE_MAPPINGS: '{"mine":{"fields":{"agent":{"to":"user_agent","unit":"ms"}}}}' });
    refuse({ LOGSTREAM_DECODE_TIME_ZONE: 'Mars/Olympus_Mons' });
  });
});

describe('a message no mapping reads', () => {
  it('is missing_field, naming the missing fields of the closest mapping and the mappings in effect', () => {
    const nginx = '{"time_iso8601":"2026-06-01T11:00:00+00:00","remote_addr":"10.0.0.1","status":"200"}';
    const reason = rejected(decodeLine(nginx, NOW_MS, decoder(['nginx_json'])));
    assert.equal(reason.code, 'missing_field');
    assert.equal(reason.message, 'missing method (request_method or request), path (request_uri or uri or request) for mapping nginx_json');
    const python = '{"timestamp":"2026-06-01T11:00:00","ip":"10.0.0.1","method":"GET","endpoint":"/a"}';
    const defaults = rejected(decodeLine(python, NOW_MS, decoder(['logstream', 'ecs', 'combined'])));
    assert.equal(defaults.code, 'missing_field');
    assert.equal(defaults.message, 'missing client_ip, path, status for mapping logstream; mappings in effect: logstream, ecs, combined');
  });

  it('a combined line where only JSON mappings apply, and the other way round, are unparseable with the mappings named', () => {
    const combined = '10.0.0.1 - - [01/Jun/2026:11:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"';
    assert.match(rejected(decodeLine(combined, NOW_MS, decoder(['nginx_json']))).message, /combined log line.*nginx_json/);
    assert.match(rejected(decodeLine('{"a":1}', NOW_MS, decoder(['combined']))).message, /JSON line.*combined/);
  });
});

describe('timestamps', () => {
  const zoneless = JSON.stringify({ timestamp: '2026-06-01T10:00:00', client_ip: '10.0.0.1', method: 'GET', path: '/', status: 200 });

  it('a timestamp without a zone is read in UTC by default, whatever the server zone is', () => {
    const previous = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      assert.notEqual(new Date('2026-06-01T10:00:00').getTime(), Date.UTC(2026, 5, 1, 10), 'the process runs in New York time');
      assert.equal(decoded(decodeLine(zoneless, NOW_MS)).timestampMs, Date.UTC(2026, 5, 1, 10));
      const spaced = zoneless.replace('T10', ' 10');
      assert.equal(decoded(decodeLine(spaced, NOW_MS)).timestampMs, Date.UTC(2026, 5, 1, 10));
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it('…or in decode.time_zone: an IANA name (with summer time) or an offset; zoned timestamps keep their zone', () => {
    assert.equal(
      decoded(decodeLine(zoneless, NOW_MS, decoder(['logstream'], { time_zone: 'Europe/Paris' }))).timestampMs,
      Date.UTC(2026, 5, 1, 8),
    );
    const winter = zoneless.replace('2026-06-01', '2026-01-15');
    assert.equal(
      decoded(decodeLine(winter, NOW_MS, decoder(['logstream'], { time_zone: 'Europe/Paris' }))).timestampMs,
      Date.UTC(2026, 0, 15, 9),
    );
    assert.equal(
      decoded(decodeLine(zoneless, NOW_MS, decoder(['logstream'], { time_zone: '-03:00' }))).timestampMs,
      Date.UTC(2026, 5, 1, 13),
    );
    const postgres = zoneless.replace('T10:00:00', ' 10:00:00.5+02');
    assert.equal(decoded(decodeLine(postgres, NOW_MS)).timestampMs, Date.UTC(2026, 5, 1, 8, 0, 0, 500));
    const zoned = zoneless.replace('10:00:00', '10:00:00+05:30');
    assert.equal(
      decoded(decodeLine(zoned, NOW_MS, decoder(['logstream'], { time_zone: 'Europe/Paris' }))).timestampMs,
      Date.UTC(2026, 5, 1, 4, 30),
    );
  });

  it('Kafka messages outside the window around ingest time are timestamp_out_of_range, with the reason', () => {
    const at = (iso: string) => Buffer.from(zoneless.replace('2026-06-01T10:00:00', iso));
    const options = { maxMessageBytes: 65536, nowMs: NOW_MS };
    decoded(decodeMessage(at('2026-05-25T12:00:01Z'), options));
    decoded(decodeMessage(at('2026-06-01T12:59:59Z'), options));
    const old = rejected(decodeMessage(at('2026-05-25T11:59:59Z'), options));
    assert.equal(old.code, 'timestamp_out_of_range');
    assert.equal(
      old.message,
      'timestamp 2026-05-25T11:59:59.000Z is more than 7 days before the ingest time 2026-06-01T12:00:00.000Z (decode.max_event_age_hours)',
    );
    const ahead = rejected(decodeMessage(at('2026-06-01T13:00:01Z'), options));
    assert.equal(ahead.code, 'timestamp_out_of_range');
    assert.match(ahead.message, /more than 60 minutes after the ingest time .*decode\.max_event_ahead_minutes/);
    const wide = createDecoder({ ...DEFAULT_DECODE_SETTINGS, max_event_age_hours: 0 }, { window: true });
    assert.equal(
      decoded(decodeMessage(at('2015-05-17T10:05:03Z'), { ...options, decoder: wide })).timestampMs,
      Date.UTC(2015, 4, 17, 10, 5, 3),
    );
  });

  it('files (replay, train, evaluate) are read without the window: the 2015 sample stays readable', () => {
    const apache = '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/ HTTP/1.1" 200 203023 "-" "Mozilla/5.0"';
    assert.equal(decoded(decodeLine(apache, NOW_MS)).timestampMs, Date.UTC(2015, 4, 17, 10, 5, 3));
    assert.equal(rejected(decodeMessage(Buffer.from(apache), { maxMessageBytes: 65536, nowMs: NOW_MS })).code, 'timestamp_out_of_range');
  });
});
