// A Decoder: the mappings in effect for one topic (or file), the zone that zone-less timestamps
// are read in, and the event-time window; compiled once from the configuration's `decode` section.
import {
  compileMapping,
  DEFAULT_MAPPINGS,
  MappingError,
  presets,
  type CompiledCombinedMapping,
  type CompiledJsonMapping,
  type MappingDefinition,
} from './mappings.js';
import type { CombinedOptions } from './combined.js';
import { wallClockReader, type WallClockReader } from './timeZone.js';
import { NO_WINDOW, type EventTimeWindow } from './validate.js';

export interface Decoder {
  /** Names of the mappings in effect, in the order they are tried. */
  mappingNames: readonly string[];
  json: readonly CompiledJsonMapping[];
  /** The combined-line mapping in effect, if any (one: a line is either combined or not). */
  combined: CompiledCombinedMapping | null;
  /** What the combined-line parser is called with, made once. */
  combinedOptions: CombinedOptions;
  zone: WallClockReader;
  window: EventTimeWindow;
}

/** The configuration's `decode` section (config/schema.ts). */
export interface DecodeSettings {
  use: readonly string[];
  topics: Readonly<Record<string, readonly string[]>>;
  mappings: Readonly<Record<string, MappingDefinition>>;
  time_zone: string;
  max_event_age_hours: number;
  max_event_ahead_minutes: number;
}

export const DEFAULT_DECODE_SETTINGS: DecodeSettings = {
  use: DEFAULT_MAPPINGS,
  topics: {},
  mappings: {},
  time_zone: 'UTC',
  max_event_age_hours: 168,
  max_event_ahead_minutes: 60,
};

export interface DecoderChoice {
  /** The mapping names to use; default: the topic's (decode.topics), else decode.use. */
  mappings?: readonly string[];
  /** The topic whose mappings apply. */
  topic?: string;
  /**
   * Apply the event-time window (the streaming path: Kafka messages against their ingest time).
   * Files (replay, train, evaluate) hold old logs by nature and are read without it.
   */
  window: boolean;
}

export function mappingsFor(settings: DecodeSettings, topic: string | undefined): readonly string[] {
  return (topic !== undefined && Object.hasOwn(settings.topics, topic) ? settings.topics[topic] : undefined) ?? settings.use;
}

/** Compiles the decoder for a topic or a file; throws MappingError for an unknown or broken mapping. */
export function createDecoder(settings: DecodeSettings, choice: DecoderChoice): Decoder {
  const names = choice.mappings ?? mappingsFor(settings, choice.topic);
  const json: CompiledJsonMapping[] = [];
  let combined: CompiledCombinedMapping | null = null;
  for (const name of names) {
    const definition = mappingDefinition(settings, name);
    const compiled = compileMapping(name, definition);
    if (compiled.kind === 'json') json.push(compiled);
    else if (combined === null) combined = compiled;
    else throw new MappingError(`mappings ${combined.name} and ${name} both read combined lines; use one`);
  }
  const zone = wallClockReader(settings.time_zone);
  const ageMs = settings.max_event_age_hours * 3_600_000;
  const aheadMs = settings.max_event_ahead_minutes * 60_000;
  return {
    mappingNames: names,
    json,
    combined,
    combinedOptions: { responseTimeToMs: combined?.responseTimeToMs ?? null, zone },
    zone,
    window: choice.window ? { maxAgeMs: ageMs > 0 ? ageMs : null, maxAheadMs: aheadMs > 0 ? aheadMs : null } : NO_WINDOW,
  };
}

function mappingDefinition(settings: DecodeSettings, name: string): MappingDefinition {
  if (Object.hasOwn(settings.mappings, name)) return settings.mappings[name]!;
  if (Object.hasOwn(presets, name)) return presets[name as keyof typeof presets] as MappingDefinition;
  throw new MappingError(
    `unknown mapping ${name} (presets: ${Object.keys(presets).join(', ')}${Object.keys(settings.mappings).length ? `; decode.mappings: ${Object.keys(settings.mappings).join(', ')}` : ''})`,
  );
}

/** What Kafka messages are read with when the caller gives no decoder: the defaults, with the window. */
export const DEFAULT_STREAM_DECODER = createDecoder(DEFAULT_DECODE_SETTINGS, { window: true });
/** What files are read with when the caller gives no decoder: the defaults, without the window. */
export const DEFAULT_FILE_DECODER = createDecoder(DEFAULT_DECODE_SETTINGS, { window: false });
