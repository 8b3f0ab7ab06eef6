// Certificates and passwords of the local stack's secured endpoints (Kafka's SASL_SSL and SSL
// listeners, the nginx fronts, MLflow's basic-auth instance). Generated on first start into
// <state_dir>/tls and <state_dir>/credentials, never into the repository; later starts reuse them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StackError } from './errors.js';
import { commandOnPath } from './install.js';

const run = promisify(execFile);

export interface StackTlsFiles {
  dir: string;
  /** The stack's own CA: what clients verify the servers against (tls_ca_file). */
  ca: string;
  caKey: string;
  /** Server certificate for 127.0.0.1 and localhost, signed by the CA, and its key. */
  serverCert: string;
  serverKey: string;
  /** Client certificate (CN logstream-client) for the mTLS endpoints, and its key. */
  clientCert: string;
  clientKey: string;
  /** Server key, certificate and CA in one PEM file: Kafka's PEM keystore. */
  serverBundle: string;
}

export function stackTlsFiles(stateDir: string): StackTlsFiles {
  const dir = join(stateDir, 'tls');
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    serverBundle: join(dir, 'server-bundle.pem'),
  };
}

const CA_DAYS = 3650;
const LEAF_DAYS = 825;

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? (error as Error).message;
    throw new StackError('tls', `openssl ${args[0]} failed while generating the stack's certificates: ${stderr}`, { cause: error });
  }
}

/** An EC P-256 key and a certificate for it signed by the CA in dir (or self-signed for the CA). */
export async function generateCertificate(
  dir: string,
  name: string,
  options: { subject: string; ca?: { cert: string; key: string }; extensions: string[]; days: number },
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  chmodSync(key, 0o600);
  writeFileSync(extFile, `${options.extensions.join('\n')}\n`);
  if (!options.ca) {
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        key,
        '-subj',
        options.subject,
        '-days',
        String(options.days),
        '-sha256',
        '-extensions',
        'v3',
        '-config',
        configFile(dir, options.extensions),
        '-out',
        cert,
      ],
      dir,
    );
  } else {
    const csr = join(dir, `${name}.csr`);
    await openssl(['req', '-new', '-key', key, '-subj', options.subject, '-out', csr], dir);
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        options.ca.cert,
        '-CAkey',
        options.ca.key,
        '-CAcreateserial',
        '-days',
        String(options.days),
        '-sha256',
        '-extfile',
        extFile,
        '-out',
        cert,
      ],
      dir,
    );
    rmSync(csr, { force: true });
  }
  rmSync(extFile, { force: true });
  return { cert, key };
}

/** A minimal openssl config whose [v3] section holds the extensions (for self-signed `req -x509`). */
function configFile(dir: string, extensions: string[]): string {
  const file = join(dir, 'req.cnf');
  writeFileSync(file, `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${extensions.join('\n')}\n`);
  return file;
}

/** A CA and a client certificate it signed, in dir: tests use one the stack does not trust. */
export async function generateCertificateAuthority(
  dir: string,
  commonName: string,
): Promise<{ ca: string; caKey: string; clientCert: string; clientKey: string }> {
  mkdirSync(dir, { recursive: true });
  const ca = await generateCertificate(dir, 'ca', {
    subject: `/CN=${commonName}`,
    extensions: ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash'],
    days: CA_DAYS,
  });
  const client = await generateCertificate(dir, 'client', {
    subject: '/CN=logstream-client',
    ca,
    extensions: ['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = clientAuth'],
    days: LEAF_DAYS,
  });
  return { ca: ca.cert, caKey: ca.key, clientCert: client.cert, clientKey: client.key };
}

const pending = new Map<string, Promise<StackTlsFiles>>();

/**
 * The stack's CA, server and client certificates, generated once (in a staging folder renamed
 * into place, so an interrupted run leaves nothing half-made). Services starting together share
 * one generation.
 */
export function ensureStackTls(stateDir: string): Promise<StackTlsFiles> {
  const files = stackTlsFiles(stateDir);
  if (existsSync(files.serverBundle)) return Promise.resolve(files);
  let generation = pending.get(files.dir);
  if (!generation) {
    generation = generateStackTls(files).finally(() => pending.delete(files.dir));
    pending.set(files.dir, generation);
  }
  return generation;
}

async function generateStackTls(files: StackTlsFiles): Promise<StackTlsFiles> {
  if (!commandOnPath('openssl')) {
    throw new StackError('tls', 'the stack needs "openssl" to make the certificates of its TLS endpoints', {
      hint: 'install it: apt-get install openssl',
    });
  }
  const staging = `${files.dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    const authority = await generateCertificateAuthority(staging, 'LogStream local stack CA');
    const server = await generateCertificate(staging, 'server', {
      subject: '/CN=localhost',
      ca: { cert: authority.ca, key: authority.caKey },
      extensions: [
        'basicConstraints = CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth',
        'subjectAltName = DNS:localhost, IP:127.0.0.1',
      ],
      days: LEAF_DAYS,
    });
    rmSync(join(staging, 'req.cnf'), { force: true });
    const bundle = [server.key, server.cert, authority.ca].map((file) => readFileSync(file, 'utf8')).join('');
    writeFileSync(join(staging, 'server-bundle.pem'), bundle, { mode: 0o600 });
    rmSync(files.dir, { recursive: true, force: true });
    renameSync(staging, files.dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return files;
}

/** The file of a generated stack credential (password, API key). */
export function stackCredentialFile(stateDir: string, name: string): string {
  return join(stateDir, 'credentials', name);
}

/**
 * A random credential of the stack, created on first use (readable by this user only) and the
 * same ever after. The value is URL- and header-safe (base64url).
 */
export function stackCredential(
  stateDir: string,
  name: string,
  generate: () => string = () => randomBytes(18).toString('base64url'),
): { file: string; value: string } {
  const file = stackCredentialFile(stateDir, name);
  mkdirSync(join(stateDir, 'credentials'), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { file, value: readFileSync(file, 'utf8').trim() };
}

/** The credential's value when it exists, without creating it. */
export function existingStackCredential(stateDir: string, name: string): string | undefined {
  const file = stackCredentialFile(stateDir, name);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}
