// The docker driver against a real dockerd (Debian's docker.io, Engine 20.10, API 1.41), and over
// TCP with mutual TLS as DOCKER_TLS_VERIFY / DOCKER_CERT_PATH describe: a TLS terminator that
// demands a client certificate signed by a test CA sits in front of the same dockerd (what
// `dockerd --tlsverify` does; the fixture serves a unix socket only).
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect as connectUnix, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { ErrorCode } from '@ocikit/errors';
import { startDockerd } from '@ocikit/test-engines';
import { makeClientCertificate, makeTestPki } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine.ts';
import { dockerDriver } from './driver.ts';
import { describeDockerDriver } from './test-suite.ts';

const suite = describeDockerDriver('dockerd', (insecureRegistries) => startDockerd({ insecureRegistries }));

describe('docker driver: tcp:// with TLS client certificates (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', () => {
  let server: Server;
  let port: number;
  let certs: string;
  let caOnly: string;
  let otherCa: string;
  const open = new Set<Socket>();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocikit-docker-tls-'));
    const pki = await makeTestPki(dir, { ips: ['127.0.0.1'] });
    const client = await makeClientCertificate(dir, pki);
    certs = mkdtempSync(join(dir, 'certs-'));
    caOnly = mkdtempSync(join(dir, 'ca-only-'));
    otherCa = mkdtempSync(join(dir, 'other-ca-'));
    copyFileSync(pki.caFile, join(certs, 'ca.pem'));
    copyFileSync(client.certFile, join(certs, 'cert.pem'));
    copyFileSync(client.keyFile, join(certs, 'key.pem'));
    copyFileSync(pki.caFile, join(caOnly, 'ca.pem'));
    const other = await makeTestPki(mkdtempSync(join(dir, 'other-pki-')), { ips: ['127.0.0.1'] });
    copyFileSync(other.caFile, join(otherCa, 'ca.pem'));
    copyFileSync(client.certFile, join(otherCa, 'cert.pem'));
    copyFileSync(client.keyFile, join(otherCa, 'key.pem'));
    server = createServer(
      {
        key: readFileSync(pki.serverKeyFile),
        cert: readFileSync(pki.serverCertFile),
        ca: readFileSync(pki.caFile),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (tls) => {
        open.add(tls);
        tls.on('close', () => open.delete(tls));
        const upstream = connectUnix(suite.running().socket);
        tls.pipe(upstream).pipe(tls);
        tls.on('error', () => upstream.destroy());
        upstream.on('error', () => tls.destroy());
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  }, 60_000);

  afterAll(async () => {
    // close() waits for every connection: end those a failed case left open
    for (const s of open) s.destroy();
    await new Promise((r) => server?.close(r));
  });

  it('runs a container over tcp:// with the client certificate from DOCKER_CERT_PATH', async () => {
    const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs };
    const engine = await Engine.connect(dockerDriver, '', { env });
    try {
      expect((await engine.system.version()).apiVersion).toBe('1.41');
      const result = await engine.containers.run(
        { image: suite.image(), cmd: ['sh', '-c', 'exit 6'], network: 'none', autoRemove: true },
        {},
      );
      expect(result.exitCode).toBe(6);
      const exec = await engine.containers.create({
        image: suite.image(),
        cmd: ['sleep', '60'],
        network: 'none',
      });
      await engine.containers.start(exec.id);
      const p = await engine.containers.exec(exec.id, { cmd: ['echo', 'over tls'] });
      const out: Uint8Array[] = [];
      for await (const c of p.output) out.push(c.data);
      expect(Buffer.concat(out).toString()).toBe('over tls\n');
      expect(await p.exitCode).toBe(0);
      await engine.containers.remove(exec.id, { force: true });
    } finally {
      await engine.close();
    }
  });

  it('fails with engine-unreachable without a client certificate, and against another CA', async () => {
    for (const dir of [caOnly, otherCa]) {
      const env = { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir };
      const e = await Engine.connect(dockerDriver, `tcp://127.0.0.1:${port}`, { env }).catch(
        (x: unknown) => x,
      );
      expect(e, dir).toMatchObject({
        code: ErrorCode.Unavailable,
        details: { reason: 'engine-unreachable' },
      });
    }
  });
});
