import { InvalidArgumentError } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { resolveHost } from './hosts.ts';

const sock = 'unix:///run/engine.sock';

describe('resolveHost', () => {
  it('takes --host, else CONTAINER_HOST, else DOCKER_HOST, else the local engine', () => {
    const env = { CONTAINER_HOST: 'unix:///run/podman/podman.sock', DOCKER_HOST: 'tcp://127.0.0.1:2375' };
    expect(resolveHost({ host: sock, env })).toEqual({ driver: 'docker', address: sock, source: 'flag' });
    expect(resolveHost({ env })).toEqual({
      driver: 'podman',
      address: 'unix:///run/podman/podman.sock',
      source: 'CONTAINER_HOST',
    });
    expect(resolveHost({ env: { DOCKER_HOST: env.DOCKER_HOST } })).toEqual({
      driver: 'docker',
      address: 'tcp://127.0.0.1:2375',
      source: 'DOCKER_HOST',
    });
    expect(resolveHost({ env: {} })).toEqual({ driver: 'local', address: 'local:', source: 'default' });
    expect(resolveHost({ env: {}, defaultAddress: 'local:/var/lib/x' })).toEqual({
      driver: 'local',
      address: 'local:/var/lib/x',
      source: 'default',
    });
  });

  it('counts empty variables and an empty --host as unset', () => {
    expect(resolveHost({ host: '', env: { CONTAINER_HOST: '', DOCKER_HOST: sock } })).toMatchObject({
      driver: 'docker',
      source: 'DOCKER_HOST',
    });
  });

  it('picks a driver by prefix: podman+unix:// is libpod, docker+ the Docker API wherever it came from', () => {
    expect(resolveHost({ host: 'podman+unix:///run/podman/podman.sock', env: {} })).toEqual({
      driver: 'podman',
      address: 'unix:///run/podman/podman.sock',
      source: 'flag',
    });
    expect(resolveHost({ env: { CONTAINER_HOST: `docker+${sock}` } })).toEqual({
      driver: 'docker',
      address: sock,
      source: 'CONTAINER_HOST',
    });
    expect(resolveHost({ host: 'podman+tcp://10.0.0.1:8080', env: {} })).toMatchObject({
      driver: 'podman',
      address: 'tcp://10.0.0.1:8080',
    });
  });

  it('names local: and local:/dir the local engine', () => {
    expect(resolveHost({ host: 'local:', env: { DOCKER_HOST: sock } })).toEqual({
      driver: 'local',
      address: 'local:',
      source: 'flag',
    });
    expect(resolveHost({ host: 'local:///srv/ocikit', env: {} })).toMatchObject({
      driver: 'local',
      address: 'local:///srv/ocikit',
    });
  });

  it('refuses what is not an engine address with InvalidArgumentError naming where it came from', () => {
    const cases: [Parameters<typeof resolveHost>[0], RegExp][] = [
      [{ host: '/var/run/docker.sock' }, /^--host: "\/var\/run\/docker.sock" is not an engine address/],
      [{ host: 'unix://run/docker.sock' }, /needs an absolute socket path/],
      [{ host: 'ssh://me@host' }, /uses the ssh:\/\/ scheme/],
      [{ host: 'tcp://' }, /has no host name|not a valid/],
      [{ host: 'tcp://h:2375/v1' }, /has a path/],
      [{ host: 'kube+unix:///x' }, /unknown driver "kube"/],
      [{ host: 'local:relative/dir' }, /relative state root/],
      [{ env: { DOCKER_HOST: 'npipe:////./pipe/docker_engine' } }, /^\$DOCKER_HOST: .*npipe:\/\/ scheme/],
      [
        { env: { CONTAINER_HOST: 'podman.sock' } },
        /^\$CONTAINER_HOST: "podman.sock" is not an engine address/,
      ],
    ];
    for (const [input, message] of cases) {
      const e = (() => {
        try {
          resolveHost({ env: {}, ...input });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, JSON.stringify(input)).toBeInstanceOf(InvalidArgumentError);
      expect((e as Error).message).toMatch(message);
      expect((e as InvalidArgumentError).hint).toMatch(/unix:\/\/\//);
    }
  });
});
