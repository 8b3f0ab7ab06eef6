// The peer benchmark's Spark: PySpark and delta-spark from PyPI in a venv in the stack cache, and
// the Kafka connector and Delta jars from Maven Central through Spark's own `--packages` (Ivy),
// with Ivy's cache in the stack cache too, so later runs and CI on the same machine reuse both.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installAtomically, runInstallCommand } from '../../infra/stack/install.js';
import { withLock } from '../../infra/stack/lock.js';

/** Delta 3.2 is built for Spark 3.5 (Scala 2.12, as PySpark's wheel ships it). */
export const PYSPARK_VERSION = '3.5.3';
export const DELTA_SPARK_VERSION = '3.2.1';
const SCALA_VERSION = '2.12';
/** Spark ML's Python side imports numpy and pandas; PySpark 3.5 predates numpy 2. */
const PYTHON_REQUIREMENTS = ['numpy<2', 'pandas'];

export const SPARK_PACKAGES = [
  `io.delta:delta-spark_${SCALA_VERSION}:${DELTA_SPARK_VERSION}`,
  `org.apache.spark:spark-sql-kafka-0-10_${SCALA_VERSION}:${PYSPARK_VERSION}`,
];

export const SPARK_JOB = fileURLToPath(new URL('./spark_job.py', import.meta.url));

export interface SparkInstall {
  /** The venv's python, which runs bench/peer/spark_job.py. */
  python: string;
  /** Ivy's home (`spark.jars.ivy`): resolved jars under jars/, the download cache under cache/. */
  ivyDir: string;
  packages: string[];
}

const stamp = `pyspark==${PYSPARK_VERSION} delta-spark==${DELTA_SPARK_VERSION} ${PYTHON_REQUIREMENTS.join(' ')} ${SPARK_PACKAGES.join(',')}`;

/**
 * Installs on first use and returns at once when the cache already holds this version: the venv
 * is built in a staging folder and renamed into place, and the jars are resolved once (by a
 * Spark session that only starts and stops) before the install counts as done.
 */
export async function ensureSpark(cacheDir: string, log: (line: string) => void): Promise<SparkInstall> {
  const root = join(cacheDir, 'bench-peer');
  const installDir = join(root, `spark-${PYSPARK_VERSION}-delta-${DELTA_SPARK_VERSION}`);
  const install: SparkInstall = {
    python: join(installDir, 'venv', 'bin', 'python'),
    ivyDir: join(root, 'ivy'),
    packages: SPARK_PACKAGES,
  };
  const stampFile = join(installDir, 'INSTALLED');
  const installed = () => existsSync(install.python) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp;
  if (installed()) return install;
  mkdirSync(root, { recursive: true });
  await withLock(join(root, 'install.lock'), 30 * 60_000, async () => {
    if (installed()) return;
    log(`installing PySpark ${PYSPARK_VERSION} and delta-spark ${DELTA_SPARK_VERSION} from PyPI into ${installDir} (once; about 320 MB)`);
    await installAtomically(installDir, async (stagingDir) => {
      const venv = join(stagingDir, 'venv');
      await runInstallCommand('spark', 'python3', ['-m', 'venv', venv]);
      // Run as `venv/bin/python …` only (never console scripts), so renaming the venv is safe.
      await runInstallCommand(
        'spark',
        join(venv, 'bin', 'python'),
        [
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          `pyspark==${PYSPARK_VERSION}`,
          `delta-spark==${DELTA_SPARK_VERSION}`,
          ...PYTHON_REQUIREMENTS,
        ],
        { onLine: (line) => line.startsWith('Collecting ') && log(`  pip: ${line.slice('Collecting '.length).trim()}`) },
      );
    });
    log(`resolving ${SPARK_PACKAGES.join(', ')} from Maven Central into ${install.ivyDir} (Ivy)`);
    await runInstallCommand(
      'spark',
      install.python,
      [SPARK_JOB, 'resolve', '--ivy', install.ivyDir, '--packages', SPARK_PACKAGES.join(',')],
      {
        env: { SPARK_LOCAL_IP: '127.0.0.1' },
        onLine: (line) => {
          const download = /downloading (\S+)/.exec(line);
          if (download) log(`  ivy: ${download[1]!.split('/').pop()}`);
        },
      },
    );
    writeFileSync(stampFile, `${stamp}\n`);
    log('Spark is installed');
  });
  return install;
}
