// Which tables this engine may read or write: protocol versions and table features (PROTOCOL.md "Table Features").
import type { Metadata, Protocol } from './actions.js';
import { parseDeltaSchema, type DeltaType } from './schema.js';

/** Reader features that change nothing for a reader that does not use them. */
const supportedReaderFeatures = new Set(['timestampNtz', 'vacuumProtocolCheck']);
/** Writer features we honour (appendOnly: OPTIMIZE only rewrites; invariants: refused below if a column declares one). */
const supportedWriterFeatures = new Set(['appendOnly', 'invariants', 'timestampNtz', 'vacuumProtocolCheck']);

/** The first feature that stops us reading the table, or undefined when it is safe to read. */
export function unsupportedReaderFeature(protocol: Protocol | undefined, metadata: Metadata | undefined): string | undefined {
  if (!protocol) return undefined;
  if (protocol.minReaderVersion > 3) return `minReaderVersion ${protocol.minReaderVersion}`;
  const mode = metadata?.configuration?.['delta.columnMapping.mode'];
  if (protocol.minReaderVersion >= 2 && mode && mode !== 'none') return 'columnMapping';
  if (protocol.minReaderVersion === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (feature === 'columnMapping' && (!mode || mode === 'none')) continue;
      if (!supportedReaderFeatures.has(feature)) return feature;
    }
  }
  return undefined;
}

/** The first feature that stops us writing the table, or undefined when it is safe to write. */
export function unsupportedWriterFeature(protocol: Protocol | undefined, metadata: Metadata | undefined): string | undefined {
  const reader = unsupportedReaderFeature(protocol, metadata);
  if (reader) return reader;
  if (!protocol) return undefined;
  if (protocol.minWriterVersion > 7) return `minWriterVersion ${protocol.minWriterVersion}`;
  if (protocol.minWriterVersion >= 3 && protocol.minWriterVersion < 7) {
    const byVersion: Record<number, string> = {
      3: 'checkConstraints',
      4: 'changeDataFeed/generatedColumns',
      5: 'columnMapping',
      6: 'identityColumns',
    };
    return byVersion[protocol.minWriterVersion];
  }
  if (protocol.minWriterVersion === 7) {
    for (const feature of protocol.writerFeatures ?? []) {
      if (!supportedWriterFeatures.has(feature)) return feature;
    }
  }
  if (metadata && schemaHasInvariants(metadata.schemaString)) return 'invariants';
  return undefined;
}

function schemaHasInvariants(schemaString: string): boolean {
  const visit = (type: DeltaType): boolean => {
    if (typeof type === 'string') return false;
    if (type.type === 'struct') return type.fields.some((field) => 'delta.invariants' in (field.metadata ?? {}) || visit(field.type));
    if (type.type === 'array') return visit(type.elementType);
    return visit(type.keyType) || visit(type.valueType);
  };
  try {
    return visit(parseDeltaSchema(schemaString));
  } catch {
    return false;
  }
}
