import { describe, expect, it } from 'vitest';
import { parseReference, parseStrictReference } from './reference.ts';

describe('parseReference', () => {
  it('normalizes Docker Hub names and adds latest', () => {
    const r = parseReference('busybox');
    expect(r.registry).toBe('docker.io');
    expect(r.repository).toBe('library/busybox');
    expect(r.tag).toBe('latest');
    expect(r.toString()).toBe('docker.io/library/busybox:latest');
    expect(r.familiarString()).toBe('busybox:latest');
    expect(parseReference('index.docker.io/user/app:1').toString()).toBe('docker.io/user/app:1');
  });

  it('keeps local registries and their ports; with a tag and a digest, the digest is what it names', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const r = parseReference(`localhost:5000/team/app:v1@${d}`);
    expect(r.registry).toBe('localhost:5000');
    expect(r.repository).toBe('team/app');
    expect(r.tag).toBe('v1');
    expect(r.digest).toBe(d);
    expect(r.identifier).toBe(d);
    expect(r.familiarName()).toBe('localhost:5000/team/app');
    expect(parseReference('127.0.0.1:5000/x').identifier).toBe('latest');
  });

  it('keeps the tag of a reference with both tag and digest (issue 13), as Docker and containerd parse it', () => {
    const d = `sha256:${'e'.repeat(64)}`;
    const r = parseReference(`busybox:latest@${d}`);
    expect(r.toString()).toBe(`docker.io/library/busybox:latest@${d}`);
    expect(r.familiarString()).toBe(`busybox:latest@${d}`);
    expect(r.tag).toBe('latest');
    expect(r.identifier).toBe(d);
    expect(r.withoutTag().toString()).toBe(`docker.io/library/busybox@${d}`);
    // a digest alone gets no tag
    expect(parseReference(`busybox@${d}`).toString()).toBe(`docker.io/library/busybox@${d}`);
  });

  it('names what is wrong', () => {
    expect(() => parseReference('Busybox')).toThrow(/must be lowercase/);
    expect(() => parseReference('busybox:-bad')).toThrow(/invalid reference format/);
    expect(() => parseReference('')).toThrow(/at least one component/);
  });

  it('parses strictly without normalizing', () => {
    const r = parseStrictReference('busybox');
    expect(r.registry).toBe('');
    expect(r.toString()).toBe('busybox');
  });
});
