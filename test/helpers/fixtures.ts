// Paths of the real data in test/fixtures (see its README for sources and licenses).
import { fileURLToPath } from 'node:url';

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));

/** 10,000 real Apache combined-format access-log lines (elastic/examples). */
export const APACHE_LOG = fixture('logs/apache_combined_2015.log');

/** Delta tables written by Spark and delta-rs, one folder per table (delta-io/delta-rs). */
export const DELTA_TABLES = fixture('delta');
