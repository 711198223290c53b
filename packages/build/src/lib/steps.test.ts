// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words are written ${VAR}, not template literals
// Config-only instructions and stage planning, without containers: Docker's and buildah's semantics.
import type { ImageConfig } from '@ocikit/image-spec';
import { describe, expect, it } from 'vitest';
import { parseDockerfile, parseInstructions } from './parse.ts';
import { globalArgValues, planStages, targetStage } from './stages.ts';
import { applyConfigInstruction, type StageScope } from './steps.ts';

const base = (): ImageConfig => ({
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [] },
});

function apply(text: string, config = base(), buildArgs: Record<string, string> = {}) {
  const scope: StageScope = {
    escape: '\\',
    args: new Map(),
    buildArgs,
    globalArgs: new Map([['GLOBAL', 'g']]),
    pendingDirs: [],
    cmdSet: false,
  };
  let next = config;
  for (const inst of parseInstructions(text)) next = applyConfigInstruction(inst, next, scope);
  return { config: next.config ?? {}, scope };
}

describe('config instructions', () => {
  it('ENTRYPOINT drops the base CMD unless the stage set one', () => {
    expect(apply('ENTRYPOINT ["/app"]').config.Cmd).toBeUndefined();
    expect(apply('CMD ["run"]\nENTRYPOINT ["/app"]').config).toMatchObject({
      Cmd: ['run'],
      Entrypoint: ['/app'],
    });
  });

  it('wraps shell forms in the SHELL in effect and records it', () => {
    const { config } = apply('SHELL ["/bin/bash", "-ec"]\nCMD echo hi\nENTRYPOINT exec app');
    expect(config).toMatchObject({
      Shell: ['/bin/bash', '-ec'],
      Cmd: ['/bin/bash', '-ec', 'echo hi'],
      Entrypoint: ['/bin/bash', '-ec', 'exec app'],
    });
  });

  it('expands ENV values with the variables before the instruction, and replaces a name in place', () => {
    const { config } = apply('ENV A=1\nENV A=2 B=$A PATH=/usr/bin:$PATH');
    expect(config.Env).toEqual(['PATH=/usr/bin:/bin', 'A=2', 'B=1']);
  });

  it('takes ARG values from build args, defaults, the global ARGs and the platform', () => {
    const { config } = apply(
      'ARG GIVEN=default\nARG DEF=d\nARG GLOBAL\nARG TARGETARCH\nENV V="$GIVEN $DEF $GLOBAL $TARGETARCH"',
      base(),
      { GIVEN: 'given' },
    );
    expect(config.Env).toContain('V=given d g amd64');
  });

  it('resolves WORKDIR against the previous one and queues it with the USER then', () => {
    const { config, scope } = apply('USER 1000\nWORKDIR /a\nWORKDIR b');
    expect(config.WorkingDir).toBe('/a/b');
    expect(scope.pendingDirs).toEqual([
      { path: '/a', user: '1000' },
      { path: '/a/b', user: '1000' },
    ]);
  });

  it('expands EXPOSE ranges and protocols, VOLUME lists, HEALTHCHECK NONE, ONBUILD', () => {
    const { config } = apply(
      'EXPOSE 80 8000-8001/udp\nVOLUME ["/a", "/b"]\nHEALTHCHECK NONE\nONBUILD RUN make',
    );
    expect(config).toMatchObject({
      ExposedPorts: { '80/tcp': {}, '8000/udp': {}, '8001/udp': {} },
      Volumes: { '/a': {}, '/b': {} },
      Healthcheck: { Test: ['NONE'] },
      OnBuild: ['RUN make'],
    });
  });

  it('refuses a bad port, a SHELL in shell form and an empty VOLUME', () => {
    expect(() => apply('EXPOSE 99999')).toThrow(/invalid port/);
    expect(() => apply('SHELL /bin/bash -c')).toThrow(/JSON form/);
    expect(() => apply('VOLUME ""')).toThrow(/empty/);
  });
});

describe('stages', () => {
  it('builds only what the target needs, in dependency order, with global ARGs in FROM', () => {
    const file = parseDockerfile(
      [
        'ARG IMG=busybox',
        'FROM ${IMG} AS a',
        'FROM busybox AS unused',
        'FROM a AS b',
        'FROM busybox AS c',
        'COPY --from=b /x /x',
        'RUN --mount=type=bind,from=a,target=/m true',
      ].join('\n'),
    );
    const order = planStages(file, targetStage(file, 'c'), globalArgValues(file, {}));
    expect(order.map((s) => s.from.alias)).toEqual(['a', 'b', 'c']);
    expect(globalArgValues(file, { IMG: 'debian' }).get('IMG')).toBe('debian');
  });

  it('names a cycle and an unknown target', () => {
    const file = parseDockerfile(
      'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n',
    );
    expect(() => planStages(file, targetStage(file, 'a'), new Map())).toThrow(/cycle: a → b → a/);
    expect(() => targetStage(file, 'nope')).toThrow(/target stage "nope" not found/);
  });
});
