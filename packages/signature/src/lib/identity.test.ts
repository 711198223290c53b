// Cases from containers/image signature/policy_reference_match_test.go (v5.23.1), run against
// matchesSignedIdentity.
import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import { assertSignedIdentity, matchesSignedIdentity } from './identity.ts';
import type { SignedIdentity } from './types.ts';

const fullRHEL = 'registry.access.redhat.com/rhel7/rhel:7.2.3';
const dig = '@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const digOther = '@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

const exact: SignedIdentity = { type: 'matchExact' };
const repoDigestOrExact: SignedIdentity = { type: 'matchRepoDigestOrExact' };
const repository: SignedIdentity = { type: 'matchRepository' };

describe('matchExact (symmetric)', () => {
  it.each([
    ['busybox:latest', 'busybox:latest', true],
    [fullRHEL, fullRHEL, true],
    [`busybox${dig}`, `busybox${dig}`, true],
    ['library/busybox:latest', 'busybox:latest', true],
    ['docker.io/library/busybox:latest', 'busybox:latest', true],
    ['busybox:latest', 'busybox:notlatest', false],
    ['busybox:latest', 'notbusybox:latest', false],
    ['busybox:latest', 'hostname/library/busybox:notlatest', false],
    ['busybox:latest', `busybox${dig}`, false],
    [`busybox${dig}`, `busybox${digOther}`, false],
    ['busybox', 'busybox:latest', false],
    ['busybox', 'busybox', false],
    [`busybox:latest${dig}`, `busybox:latest${dig}`, true],
    [`busybox:latest${dig}`, `busybox${dig}`, false],
    ['UPPERCASE_IS_INVALID_IN_DOCKER_REFERENCES', 'busybox:latest', false],
    ['INVALID', 'INVALID', false],
  ])('image %s, signed %s → %s', (a, b, want) => {
    expect(matchesSignedIdentity(exact, a, b)).toBe(want);
    expect(matchesSignedIdentity(exact, b, a)).toBe(want);
    expect(matchesSignedIdentity({ type: 'exactReference', dockerReference: a }, undefined, b)).toBe(want);
  });
});

describe('matchRepository (symmetric)', () => {
  it.each([
    ['busybox:latest', 'busybox:latest', true],
    ['busybox:latest', 'busybox:notlatest', true],
    [`${fullRHEL}tagsuffix`, fullRHEL, true],
    ['busybox:latest', `busybox${dig}`, true],
    ['busybox', 'busybox:latest', true],
    ['busybox:latest', 'notbusybox:latest', false],
    ['busybox:latest', 'hostname/library/busybox:latest', false],
    ['INVALID', 'INVALID', false],
  ])('image %s, signed %s → %s', (a, b, want) => {
    expect(matchesSignedIdentity(repository, a, b)).toBe(want);
    expect(matchesSignedIdentity(repository, b, a)).toBe(want);
    expect(matchesSignedIdentity({ type: 'exactRepository', dockerRepository: a }, undefined, b)).toBe(want);
  });
});

describe('matchRepoDigestOrExact', () => {
  it.each([
    ['busybox:latest', 'busybox:latest', true],
    ['busybox:latest', 'busybox:notlatest', false],
    [`busybox${dig}`, 'busybox:latest', true],
    [`busybox${dig}`, `busybox${digOther}`, true],
    [`busybox${dig}`, 'notbusybox:latest', false],
    [`busybox${dig}`, 'busybox', false],
    ['busybox', 'busybox:latest', false],
    [`busybox:latest${dig}`, 'busybox:latest', false],
    [`busybox:latest${dig}`, `busybox:latest${dig}`, true],
  ])('image %s, signed %s → %s', (image, signed, want) => {
    expect(matchesSignedIdentity(repoDigestOrExact, image, signed)).toBe(want);
  });

  it('an image with no Docker reference (oci:, dir:) never matches the image-relative rules', () => {
    for (const type of ['matchExact', 'matchRepoDigestOrExact', 'matchRepository'] as const) {
      expect(matchesSignedIdentity({ type }, undefined, 'busybox:latest')).toBe(false);
    }
  });
});

describe('remapIdentity', () => {
  const remap = (prefix: string, signedPrefix: string): SignedIdentity => ({
    type: 'remapIdentity',
    prefix,
    signedPrefix,
  });
  it.each([
    ['mirror.example', 'vendor.example', 'mirror.example/ns/image:tag', 'vendor.example/ns/image:tag', true],
    ['mirror.example', 'vendor.example', 'mirror.example/ns/image:tag', 'mirror.example/ns/image:tag', false],
    ['mirror.example', 'vendor.example', 'different.com/ns/image:tag', 'different.com/ns/image:tag', true],
    [
      'docker.io/library',
      'not-docker-signed.example/ns',
      'busybox:latest',
      'not-docker-signed.example/ns/busybox:latest',
      true,
    ],
    [
      'example.com/ns/mirror',
      'example.com/ns/vendor',
      'example.com/ns/mirror:tag',
      'example.com/ns/vendor:tag',
      true,
    ],
    [
      'mirror.example',
      'vendor.example',
      'prefixmirror.example/ns/image:tag',
      'prefixmirror.example/ns/image:tag',
      true,
    ],
    ['mirror.example', 'vendor.example', `mirror.example/image${dig}`, 'vendor.example/image:anytag', true],
    ['example.com:5000', 'vendor.example', 'example.com:50000/image:t', 'vendor.example/image:t', false],
    [
      'mirror.example/ns/image',
      'vendor.example:5000',
      'mirror.example/ns/image:tag',
      'vendor.example:5000/ns/image:tag',
      false,
    ],
    [
      'private-mirror:5000/vendor-mirror',
      'vendor.example.com',
      'private-mirror:5000/vendor-mirror/product-a/image1:latest',
      'vendor.example.com/product-a/image1:latest',
      true,
    ],
  ])('prefix %s → %s: image %s, signed %s → %s', (prefix, signedPrefix, image, signed, want) => {
    expect(matchesSignedIdentity(remap(prefix, signedPrefix), image, signed)).toBe(want);
  });

  it('refuses prefixes that are neither host[:port] nor a name starting with one', () => {
    for (const bad of ['', 'busybox/x:tag', 'example.com/ns:tag', `example.com/ns${dig}`]) {
      expect(() => assertSignedIdentity(remap(bad, 'vendor.example')), bad).toThrow(/prefix .* is not valid/);
    }
    expect(() => assertSignedIdentity(remap('example.com:5000', 'docker.io/library'))).not.toThrow();
  });
});

describe('assertSignedIdentity', () => {
  it('needs a tag or digest in exactReference, a valid name in exactRepository', () => {
    const e = (() => {
      try {
        assertSignedIdentity({ type: 'exactReference', dockerReference: 'busybox' });
      } catch (err) {
        return err;
      }
    })();
    expect(isInvalidArgument(e)).toBe(true);
    expect(String(e)).toMatch(/neither a tag nor digest/);
    expect(() => assertSignedIdentity({ type: 'exactRepository', dockerRepository: 'UPPER' })).toThrow(
      /invalid format/,
    );
    expect(() =>
      assertSignedIdentity({ type: 'exactRepository', dockerRepository: 'busybox' }),
    ).not.toThrow();
  });
});
