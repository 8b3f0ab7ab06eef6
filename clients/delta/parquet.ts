// Parquet encoding and decoding through parquet-wasm (arrow-rs compiled to WebAssembly); see README for why.
import { type Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';

export type ParquetCompression = 'snappy' | 'zstd' | 'uncompressed';

export interface ParquetWriteOptions {
  compression?: ParquetCompression;
  /** Rows per row group; each row group carries min/max/null-count statistics. */
  rowGroupRows?: number;
}

const codecs: Record<ParquetCompression, wasm.Compression> = {
  snappy: wasm.Compression.SNAPPY,
  zstd: wasm.Compression.ZSTD,
  uncompressed: wasm.Compression.UNCOMPRESSED,
};

/** Encodes an Arrow table as one Parquet file (timestamps as TIMESTAMP(MICROS, isAdjustedToUTC) when the column is µs UTC). */
export function encodeParquet(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  const wasmTable = wasm.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const properties = new wasm.WriterPropertiesBuilder()
    .setCompression(codecs[options.compression ?? 'snappy'])
    .setMaxRowGroupSize(options.rowGroupRows ?? 1_048_576)
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setCreatedBy('logstream delta engine (parquet-wasm)')
    .build();
  return wasm.writeParquet(wasmTable, properties);
}

/** Decodes a whole Parquet file into an Arrow table in JavaScript memory. */
export function decodeParquet(bytes: Uint8Array): Table {
  const wasmTable = wasm.readParquet(bytes);
  return tableFromIPC(wasmTable.intoIPCStream());
}
