// A throwaway certificate authority for TLS test registries: a CA, a server certificate it signs for
// the names and addresses a test reaches the registry by, and client certificates for mutual TLS.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { selfSignedCertificate } from './token-issuer.ts';

const run = promisify(execFile);

/** Files of a test PKI (PEM). */
export interface TestPki {
  /** The CA certificate: trust it (`ca.crt` in a certs.d directory, or a CA file). */
  caFile: string;
  /** The CA's private key. */
  caKeyFile: string;
  /** The server certificate and key. */
  serverCertFile: string;
  serverKeyFile: string;
}

/** A client certificate pair signed by a {@link TestPki}'s CA. */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/** Makes a CA and a server certificate for `names` (DNS) and `ips`, valid two days, in `dir`. */
export async function makeTestPki(
  dir: string,
  options: { names?: string[]; ips?: string[] },
): Promise<TestPki> {
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  await selfSignedCertificate({
    keyPath: caKeyFile,
    certificatePath: caFile,
    name: 'ocikit-test-ca',
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
  });
  const san = [...(options.names ?? []).map((n) => `DNS:${n}`), ...(options.ips ?? []).map((i) => `IP:${i}`)];
  const serverCertFile = join(dir, 'server.pem');
  const serverKeyFile = join(dir, 'server-key.pem');
  await sign(dir, 'server', { caFile, caKeyFile }, serverCertFile, serverKeyFile, [
    `subjectAltName=${san.join(',')}`,
    'extendedKeyUsage=serverAuth',
  ]);
  return { caFile, caKeyFile, serverCertFile, serverKeyFile };
}

/** Makes a client certificate (`extendedKeyUsage=clientAuth`) signed by the PKI's CA. */
export async function makeClientCertificate(
  dir: string,
  pki: Pick<TestPki, 'caFile' | 'caKeyFile'>,
  name = 'client',
): Promise<ClientCertificate> {
  const certFile = join(dir, `${name}.cert`);
  const keyFile = join(dir, `${name}.key`);
  await sign(dir, name, pki, certFile, keyFile, ['extendedKeyUsage=clientAuth']);
  return { certFile, keyFile };
}

async function sign(
  dir: string,
  name: string,
  pki: Pick<TestPki, 'caFile' | 'caKeyFile'>,
  certFile: string,
  keyFile: string,
  extensions: string[],
): Promise<void> {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, `${extensions.join('\n')}\n`);
  await run('openssl', [
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caFile,
    '-CAkey',
    pki.caKeyFile,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}
