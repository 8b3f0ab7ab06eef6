// The consumer-group churn scenario (test/helpers/churn.ts) N times in a row: duplicates and gaps per
// run, counted with delta-rs. Prints figures; never fails.
//   npm run bench -- churn [--runs 10] [--logs 300000] [--seconds 90] [--no-search] [--model FILE]
// Without --model the streamers learn (no verdicts, no anomalies rows); with a model file (from
// `logstream train --data F --no-register --out FILE`) anomalies are written and checked against logs.
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { DEFAULT_CHURN, runChurn } from '../test/helpers/churn.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    logs: { type: 'string', default: String(DEFAULT_CHURN.logs) },
    seconds: { type: 'string', default: String(DEFAULT_CHURN.produceSeconds) },
    'no-search': { type: 'boolean', default: false },
    model: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const config = loadConfig().config;
const settings = {
  ...DEFAULT_CHURN,
  logs: Number(args.logs),
  produceSeconds: Number(args.seconds),
  search: !args['no-search'],
  modelFile: args.model,
  onProgress: args.verbose ? (line: string) => console.error(`  ${line}`) : undefined,
};
const runs = [];
console.log('run  seconds  offsets   logs      quarantine  duplicates  gaps  anomalies  anomalies-mismatch  search');
for (let run = 1; run <= Number(args.runs); run += 1) {
  try {
    const report = await runChurn(config, settings);
    runs.push({ run, ...report, events: undefined });
    console.log(
      [
        run,
        report.seconds.toFixed(0),
        report.offsets,
        report.logsRows,
        report.quarantineRows,
        report.duplicates,
        report.gaps,
        report.anomaliesRows,
        report.anomaliesMismatch,
        report.searchDocuments ?? '-',
      ]
        .map(String)
        .join('  '),
    );
  } catch (error) {
    runs.push({ run, error: (error as Error).message });
    console.log(`${run}  failed: ${(error as Error).message}`);
  }
}
console.log(
  JSON.stringify({
    bench: 'churn',
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    settings: { ...settings, onProgress: undefined },
    runs,
  }),
);
