import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_SIZE, makePayload, PayloadType, parsePayload } from './payload.ts';

const D = `sha256:${'a'.repeat(64)}`;
const enc = (s: string) => Buffer.from(s);
const doc = (critical: string, optional = '{}') => enc(`{"critical":${critical},"optional":${optional}}`);
const crit = (type: PayloadType = PayloadType.Sigstore, digest = D, ref = 'localhost:5000/app:1') =>
  `{"identity":{"docker-reference":"${ref}"},"image":{"docker-manifest-digest":"${digest}"},"type":"${type}"}`;

function rejects(bytes: Uint8Array, message: RegExp, type: PayloadType = PayloadType.Sigstore) {
  let caught: unknown;
  try {
    parsePayload(bytes, type);
  } catch (e) {
    caught = e;
  }
  expect(isInvalidArgument(caught), String(caught)).toBe(true);
  expect(String((caught as Error).message)).toMatch(message);
}

describe('makePayload', () => {
  it('writes the fields in Go sorted-key order, as containers/image does', () => {
    const bytes = makePayload(D, 'localhost:5000/app:1', { creator: 'ocikit', timestamp: 1700000000 });
    expect(Buffer.from(bytes).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"localhost:5000/app:1"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":{"creator":"ocikit","timestamp":1700000000}}`,
    );
  });
  it('writes the simple signing type and can leave the optional fields out', () => {
    const bytes = makePayload(D, 'x/y', { type: PayloadType.SimpleSigning, creator: null, timestamp: null });
    expect(JSON.parse(Buffer.from(bytes).toString())).toEqual({
      critical: {
        identity: { 'docker-reference': 'x/y' },
        image: { 'docker-manifest-digest': D },
        type: 'atomic container signature',
      },
      optional: {},
    });
  });
  it('round-trips through parsePayload', () => {
    const p = parsePayload(makePayload(D, 'a/b:c', { timestamp: 42 }), PayloadType.Sigstore);
    expect(p).toEqual({
      type: PayloadType.Sigstore,
      dockerManifestDigest: D,
      dockerReference: 'a/b:c',
      creator: 'ocikit',
      timestamp: 42,
    });
  });
  it('refuses a bad digest, an empty reference, a fractional timestamp', () => {
    expect(() => makePayload('sha256:zz', 'a')).toThrow(/digest/);
    expect(() => makePayload(D, '')).toThrow(/docker reference/);
    expect(() => makePayload(D, 'a', { timestamp: 1.5 })).toThrow(/integer/);
  });
});

describe('parsePayload', () => {
  it('reads what cosign writes ("optional": null)', () => {
    const p = parsePayload(doc(crit(), 'null'), PayloadType.Sigstore);
    expect(p.dockerManifestDigest).toBe(D);
    expect(p.dockerReference).toBe('localhost:5000/app:1');
    expect(p.creator).toBeUndefined();
  });
  it('reads what skopeo writes (creator and timestamp), ignoring unknown optional fields', () => {
    const p = parsePayload(
      doc(crit(), '{"creator":"containers/image 5.24.1","timestamp":1700000001,"extra":{"x":1}}'),
      PayloadType.Sigstore,
    );
    expect(p.creator).toBe('containers/image 5.24.1');
    expect(p.timestamp).toBe(1700000001);
  });
  it('refuses "optional": null in a simple signing payload', () => {
    rejects(
      doc(crit(PayloadType.SimpleSigning), 'null'),
      /optional is not an object/,
      PayloadType.SimpleSigning,
    );
  });
  it('refuses a payload of the other kind', () => {
    rejects(doc(crit(PayloadType.SimpleSigning)), /unrecognized signature type/);
    rejects(doc(crit(PayloadType.Sigstore)), /unrecognized signature type/, PayloadType.SimpleSigning);
  });
  it('refuses unknown and missing fields at every critical level', () => {
    rejects(enc(`{"critical":${crit()},"optional":{},"x":1}`), /unexpected field "x"/);
    rejects(enc(`{"critical":${crit()}}`), /missing field "optional"/);
    rejects(
      doc(
        `{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":"${D}"},"type":"${PayloadType.Sigstore}","extra":1}`,
      ),
      /critical: unexpected field "extra"/,
    );
    rejects(
      doc(`{"identity":{"docker-reference":"a"},"image":{},"type":"${PayloadType.Sigstore}"}`),
      /critical.image: missing field "docker-manifest-digest"/,
    );
    rejects(
      doc(
        `{"identity":{"docker-reference":"a","more":"b"},"image":{"docker-manifest-digest":"${D}"},"type":"${PayloadType.Sigstore}"}`,
      ),
      /critical.identity: unexpected field "more"/,
    );
  });
  it('refuses duplicate keys (JSON.parse would keep the last one)', () => {
    rejects(
      doc(
        `{"identity":{"docker-reference":"good/app","docker-reference":"evil/app"},"image":{"docker-manifest-digest":"${D}"},"type":"${PayloadType.Sigstore}"}`,
      ),
      /duplicate key "docker-reference"/,
    );
  });
  it('refuses wrongly typed values', () => {
    rejects(doc(crit(), '{"timestamp":1.5}'), /timestamp is not an integer/);
    rejects(doc(crit(), '{"creator":7}'), /creator is not a string/);
    rejects(
      doc(
        `{"identity":{"docker-reference":null},"image":{"docker-manifest-digest":"${D}"},"type":"${PayloadType.Sigstore}"}`,
      ),
      /docker-reference is not a string/,
    );
    rejects(doc(crit(PayloadType.Sigstore, 'sha256:abc')), /invalid docker-manifest-digest/);
    rejects(enc('[]'), /not a JSON object/);
  });
  it('refuses truncated, non-UTF-8 and huge payloads', () => {
    const whole = doc(crit());
    rejects(whole.subarray(0, whole.length - 3), /expected|unterminated/);
    rejects(Uint8Array.of(0x7b, 0xff, 0x7d), /not UTF-8/);
    rejects(new Uint8Array(MAX_PAYLOAD_SIZE + 1).fill(0x20), /more than/);
    rejects(enc(`${'['.repeat(100)}${']'.repeat(100)}`), /nested too deeply/);
    rejects(enc(`${Buffer.from(whole).toString()} x`), /unexpected data/);
  });
});
