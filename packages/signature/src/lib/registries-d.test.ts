// The examples of containers-registries.d(5) (Debian 12's golang-github-containers-image 5.23.1)
// merged and looked up as documented, plus the lookaside store they point at.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isFailedPrecondition, isInvalidArgument } from '@ocikit/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookasideSignatureUrl, readLookasideSignatures, writeLookasideSignatures } from './lookaside.ts';
import { loadRegistriesD, lookasideFor, useSigstoreAttachments } from './registries-d.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('registries.d', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocikit-registries-d-'));
    writeFileSync(
      join(dir, 'origins.yaml'),
      `# Using Containers from Various Origins
docker:
    registry.database-supplier.com:
        lookaside: https://lookaside.database-supplier.com
    distribution.great-middleware.org:
        lookaside: https://security-team.great-middleware.org/lookaside
    docker.io/web-framework:
        lookaside: https://lookaside.web-framework.io:8080
`,
    );
    writeFileSync(
      join(dir, 'developing.yaml'),
      `docker:
    registry.example.com:
        lookaside: https://registry-lookaside.example.com
    registry.example.com/mydepartment:
        lookaside: https://lookaside.mydepartment.example.com
        lookaside-staging: file:///mnt/mydepartment/lookaside-staging
    registry.example.com/mydepartment/myproject:mybranch:
        lookaside: http://localhost:4242/lookaside
        lookaside-staging: file:///home/useraccount/webroot/lookaside
    "localhost:5000":
        sigstore: file:///srv/old-name     # the old key, still read
        use-sigstore-attachments: true
`,
    );
    writeFileSync(
      join(dir, 'global.yaml'),
      'default-docker:\n    lookaside-staging: file:///mnt/company/common-lookaside-staging\n',
    );
    writeFileSync(join(dir, 'ignored.yml'), 'not: [valid');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('merges the files and picks the most specific namespace, staging for writes', async () => {
    const config = await loadRegistriesD({ dir });
    const read = (ref: string) => lookasideFor(config, ref).href;
    const write = (ref: string) => lookasideFor(config, ref, { write: true }).href;
    expect(read('registry.database-supplier.com/db/server:1')).toBe(
      'https://lookaside.database-supplier.com/db/server',
    );
    expect(read('web-framework/app:2')).toBe('https://lookaside.web-framework.io:8080/web-framework/app');
    expect(read('registry.example.com/other/x:1')).toBe('https://registry-lookaside.example.com/other/x');
    expect(read('registry.example.com/mydepartment/app:1')).toBe(
      'https://lookaside.mydepartment.example.com/mydepartment/app',
    );
    expect(write('registry.example.com/mydepartment/app:1')).toBe(
      'file:///mnt/mydepartment/lookaside-staging/mydepartment/app',
    );
    expect(read('registry.example.com/mydepartment/myproject:mybranch')).toBe(
      'http://localhost:4242/lookaside/mydepartment/myproject',
    );
    expect(write('registry.example.com/mydepartment/myproject:otherbranch')).toBe(
      'file:///mnt/mydepartment/lookaside-staging/mydepartment/myproject',
    );
    // default-docker has only a staging URL: writes use it, reads fall back to the built-in default.
    expect(write('quay.io/some/thing:1')).toBe('file:///mnt/company/common-lookaside-staging/some/thing');
    expect(read('quay.io/some/thing:1')).toMatch(/^file:\/\/\/.*containers\/sigstore\/some\/thing$/);
    expect(read('localhost:5000/app:1')).toBe('file:///srv/old-name/app');
    expect(useSigstoreAttachments(config, 'localhost:5000/app:1')).toBe(true);
    expect(useSigstoreAttachments(config, 'registry.example.com/x:1')).toBe(false);
  });

  it('refuses the same namespace in two files and malformed YAML, naming the file', async () => {
    const bad = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(bad, 'a.yaml'), 'docker:\n  example.com:\n    lookaside: file:///a\n');
    writeFileSync(join(bad, 'b.yaml'), 'docker:\n  example.com:\n    lookaside: file:///b\n');
    await expect(loadRegistriesD({ dir: bad })).rejects.toThrow(
      /"docker" namespace "example.com" defined both in .*a.yaml and .*b.yaml/,
    );
    // `default-docker: null` (an empty section) defines nothing, as in containers/image (nil pointer).
    const empty = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(empty, 'a.yaml'), 'default-docker:\n');
    writeFileSync(join(empty, 'b.yaml'), 'default-docker:\n  lookaside: file:///b\n');
    expect((await loadRegistriesD({ dir: empty })).defaultDocker).toEqual({ lookaside: 'file:///b' });
    rmSync(join(bad, 'b.yaml'));
    writeFileSync(join(bad, 'c.yaml'), 'docker:\n  example.com:\n    lookaside: [1\n');
    const e = await loadRegistriesD({ dir: bad }).catch((x: unknown) => x);
    expect(isInvalidArgument(e)).toBe(true);
    expect(String(e)).toMatch(/invalid registries.d file .*c.yaml/);
    writeFileSync(join(bad, 'c.yaml'), 'docker:\n  other.com:\n    use-sigstore-attachments: "yes"\n');
    await expect(loadRegistriesD({ dir: bad })).rejects.toThrow(
      /other.com.use-sigstore-attachments: expected true or false/,
    );
  });

  it('takes $HOME/.config/containers/registries.d before the system directory; none is empty', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    expect(await loadRegistriesD({ env: { HOME: home }, systemDir: join(dir, 'nowhere') })).toEqual({
      defaultDocker: undefined,
      docker: {},
      dir: undefined,
    });
    expect((await loadRegistriesD({ env: { HOME: home }, systemDir: dir })).dir).toBe(dir);
    mkdirSync(join(home, '.config/containers/registries.d'), { recursive: true });
    expect((await loadRegistriesD({ env: { HOME: home }, systemDir: dir })).dir).toBe(
      join(home, '.config/containers/registries.d'),
    );
  });
});

describe('lookaside storage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocikit-lookaside-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes repo@sha256=HEX/signature-N as containers/image does, reads them back, and replaces the set', async () => {
    const base = new URL(`${pathToFileURL(dir).href}/library/busybox`);
    expect(lookasideSignatureUrl(base, digest, 0).href).toBe(
      `${pathToFileURL(dir).href}/library/busybox@sha256=${'ab'.repeat(32)}/signature-1`,
    );
    await writeLookasideSignatures(base, digest, [
      Buffer.from('one'),
      Buffer.from('two'),
      Buffer.from('three'),
    ]);
    const sigDir = join(dir, `library/busybox@sha256=${'ab'.repeat(32)}`);
    expect(readdirSync(sigDir).sort()).toEqual(['signature-1', 'signature-2', 'signature-3']);
    expect(readFileSync(join(sigDir, 'signature-2'), 'utf8')).toBe('two');
    await writeLookasideSignatures(base, digest, [Buffer.from('only')]);
    expect(readdirSync(sigDir)).toEqual(['signature-1']);
    expect((await readLookasideSignatures(base, digest)).map((b) => Buffer.from(b).toString())).toEqual([
      'only',
    ]);
    expect(await readLookasideSignatures(base, `sha256:${'cd'.repeat(32)}`)).toEqual([]);
  });

  it('refuses huge signatures and writing to http(s)', async () => {
    const base = new URL(`${pathToFileURL(dir).href}/huge`);
    const sigDir = join(dir, `huge@sha256=${'ab'.repeat(32)}`);
    mkdirSync(sigDir, { recursive: true });
    writeFileSync(join(sigDir, 'signature-1'), Buffer.alloc((4 << 20) + 1));
    await expect(readLookasideSignatures(base, digest)).rejects.toThrow(/larger than 4194304 bytes/);
    const e = await writeLookasideSignatures(new URL('https://lookaside.example.com/x'), digest, [
      Buffer.from('x'),
    ]).catch((x: unknown) => x);
    expect(isFailedPrecondition(e)).toBe(true);
  });

  it('reads http lookasides until a 404, with the body bounded', async () => {
    const server = createServer((req, res) => {
      if (req.url?.endsWith('/signature-1')) res.end('first');
      else if (req.url?.endsWith('/signature-2')) res.end('second');
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const sigs = await readLookasideSignatures(new URL(`http://127.0.0.1:${port}/lookaside/app`), digest);
      expect(sigs.map((b) => Buffer.from(b).toString())).toEqual(['first', 'second']);
    } finally {
      server.close();
    }
  });
});
