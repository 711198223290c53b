// Library errors carry a reason; the CLI finds containers by it and adds its own hints.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineError } from '@ocikit/engine';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  UnauthenticatedError,
  UnavailableError,
} from '@ocikit/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { cliHint, hintOf, reportError } from './hints.ts';
import { runCli } from './test-cli.ts';

const root = mkdtempSync(join(tmpdir(), 'ocikit-hints-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An exited container record with a chosen id, as the shim writes it. */
function writeRecord(id: string, name: string): void {
  const dir = join(root, 'containers', id);
  mkdirSync(join(dir, 'bundle'), { recursive: true });
  const record = {
    id,
    name,
    image: 'busybox',
    command: ['true'],
    bundle: join(dir, 'bundle'),
    runtime: '/usr/sbin/runc',
    runtimeRoot: join(root, 'runtime', 'runc'),
    tty: false,
    interactive: false,
    status: 'exited',
    exitCode: 0,
    createdAt: new Date().toISOString(),
    logPath: join(dir, 'ctr.log'),
    autoRemove: false,
    stopSignal: 'SIGTERM',
    labels: {},
  };
  writeFileSync(join(dir, 'container.json'), JSON.stringify(record));
}
writeRecord(`abc1${'0'.repeat(60)}`, 'first');
writeRecord(`abc2${'0'.repeat(60)}`, 'second');

describe('the CLI adds its commands and flags to library hints', () => {
  it('by reason', () => {
    const running = new FailedPreconditionError('container web is running', {
      details: { reason: 'not-stopped', name: 'web' },
      hint: 'stop it first, or remove it with force (killing it)',
    });
    expect(hintOf(running)).toBe(
      "stop it first, or remove it with force (killing it); or use 'ocikit rm -f web'",
    );
    const net = (reason: 'network-not-found' | 'network-in-use' | 'network-exists' | 'port-in-use') =>
      cliHint(engineError(reason, { engine: 'docker', operation: 'networks.remove', message: reason }));
    expect(net('network-not-found')).toBe("see 'ocikit network ls'");
    expect(net('network-in-use')).toMatch(/ocikit network inspect/);
    expect(net('network-exists')).toMatch(/another name/);
    expect(net('port-in-use')).toMatch(/-p HOST-PORT:PORT/);
    const login = new UnauthenticatedError('401', {
      details: { reason: 'credentials-required', registry: 'localhost:5000' },
    });
    expect(cliHint(login)).toBe("log in with 'ocikit login localhost:5000'");
    expect(cliHint(new UnavailableError('down', { details: { reason: 'unreachable' } }))).toMatch(
      /--plain-http/,
    );
    // a 401 whose error names only the URL: the login hint names its host, never a literal REGISTRY
    const fromUrl = new UnauthenticatedError('401', {
      details: { reason: 'credentials-required', url: 'https://reg.example:5443/v2/app/manifests/1' },
    });
    expect(cliHint(fromUrl)).toBe("log in with 'ocikit login reg.example:5443'");
    const hub = new UnauthenticatedError('401', {
      details: { reason: 'credentials-required', url: 'https://registry-1.docker.io/v2/x/manifests/1' },
    });
    expect(cliHint(hub)).toBe("log in with 'ocikit login docker.io'");
    // after a plain-HTTP attempt, --plain-http is no advice
    const plain = new UnavailableError('down', {
      details: { reason: 'unreachable', url: 'http://127.0.0.1:1/v2/x/manifests/1' },
    });
    expect(cliHint(plain)).toBeUndefined();
    expect(
      cliHint(new InvalidArgumentError('bad', { details: { reason: 'something-else' } })),
    ).toBeUndefined();
    expect(hintOf(new Error('plain'))).toBeUndefined();
  });

  it('a loopback registry that is down: no --plain-http advice, it was tried over plain HTTP', async () => {
    const r = await runCli(['--root', root, 'inspect', '--remote', '127.0.0.1:1/x:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach 127.0.0.1:1');
    expect(r.stderr).not.toMatch(/plain-http|plainHttp/);
  });

  it('oci:FILE/sub names FILE, the parent that is a file', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli(['--root', root, 'ls', `oci:${file}/sub`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} is a file, not a directory (in the layout path ${file}/sub)`);
  });

  it('printed after the library hint', async () => {
    const missing = await runCli(['--root', root, 'rm', 'nothing']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toBe(`ocikit: no container "nothing" (see 'ocikit ps -a')\n`);
    const ambiguous = await runCli(['--root', root, 'rm', 'abc']);
    expect(ambiguous.stderr).toBe(
      `ocikit: "abc" is the start of 2 container ids (give more of the id, or the name; see 'ocikit ps -a' for names and ids)\n`,
    );
  });

  it('a prefix of several container ids is no container for inspect, which then looks for an image', async () => {
    const r = await runCli(['--root', root, 'inspect', 'abc']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('container ids');
    expect((await runCli(['--root', root, 'inspect', '-f', '{{.Name}}', 'abc2'])).stdout).toBe('second\n');
  });
});

describe('engine errors', () => {
  const printed = (e: unknown) => {
    let out = '';
    reportError(
      {
        write: (s: string) => {
          out += s;
          return true;
        },
      } as unknown as Parameters<typeof reportError>[0],
      e,
      false,
    );
    return out;
  };

  it("the local engine's read as the CLI's own; another engine's name it; hints by standard reason", () => {
    const inUse = engineError('image-in-use', {
      engine: 'local',
      operation: 'images.remove',
      message: 'image used by c1',
      hint: 'remove the container first',
      extra: { image: 'docker.io/library/a:1' },
    });
    expect(printed(inUse)).toBe(
      "ocikit: image used by c1 (remove the container first; or use 'ocikit rmi -f docker.io/library/a:1')\n",
    );
    const missing = engineError('image-not-found', {
      engine: 'docker',
      operation: 'images.inspect',
      message: 'no such image a',
    });
    expect(printed(missing)).toBe("ocikit: docker: images.inspect: no such image a (see 'ocikit images')\n");
    const refused = engineError('bad-credentials', {
      engine: 'local',
      operation: 'images.pull',
      message: 'unauthorized',
      extra: { registry: 'localhost:5000' },
    });
    expect(printed(refused)).toBe("ocikit: unauthorized (log in with 'ocikit login localhost:5000')\n");
  });
});
