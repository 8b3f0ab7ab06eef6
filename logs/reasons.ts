// Why a message was rejected: a stable machine-readable code (stored in the quarantine table and
// the dead-letter topic, counted by `logstream replay`) plus human text naming the offending value.

export const rejectionCodes = [
  'empty',
  'oversize',
  'invalid_utf8',
  'unparseable',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'bad_timestamp',
  'timestamp_out_of_range',
  'bad_ip',
  'bad_method',
  'bad_request_line',
  'bad_path',
  'status_out_of_range',
  'negative_bytes',
  'bad_response_time',
] as const;

export type RejectionCode = (typeof rejectionCodes)[number];

export interface Rejection {
  code: RejectionCode;
  /** One line for humans, e.g. "status 777 is outside 100..599". Never the whole payload. */
  message: string;
}

export function rejection(code: RejectionCode, message: string): Rejection {
  return { code, message };
}
