import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type { Platform } from './types.ts';

const archAliases: Readonly<Record<string, string>> = {
  x86_64: 'amd64',
  x86: '386',
  i386: '386',
  i686: '386',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
};

/**
 * Normalizes a platform as containerd does: lower-case os, architecture aliases (`x86_64` →
 * `amd64`, `aarch64` → `arm64`, `armhf` → `arm/v7`, `armel` → `arm/v6`), `arm64`'s default variant
 * `v8` made explicit, `arm`'s default `v7`, and `amd64`'s `v1` dropped.
 */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  const rawArch = platform.architecture.toLowerCase();
  let architecture = archAliases[rawArch] ?? rawArch;
  let variant = platform.variant;
  if (rawArch === 'armhf' && !variant) variant = 'v7';
  if (rawArch === 'armel' && !variant) variant = 'v6';
  if (architecture === 'arm64') {
    if (!variant || variant === '8') variant = 'v8';
  } else if (architecture === 'arm') {
    if (!variant || variant === '7') variant = 'v7';
    else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
  } else if (architecture === 'amd64') {
    if (variant === 'v1') variant = undefined;
  } else if (architecture === '386' || architecture === 'x86') {
    architecture = '386';
  }
  const out: Platform = { ...platform, os, architecture };
  if (variant) out.variant = variant;
  else delete out.variant;
  return out;
}

/**
 * Parses `os/arch[/variant]` (e.g. `linux/arm64/v8`). An `os.version` may follow the os
 * (`windows:10.0.17763/amd64`) or end the string (`windows/amd64:10.0.17763`).
 */
export function parsePlatform(input: string): Platform {
  const parts = input.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.:-]+$/.test(p))) {
    throw new InvalidArgumentError(`invalid platform "${truncate(input, 80)}": expected os/arch[/variant]`, {
      details: { reason: 'invalid-format' },
      hint: 'for example linux/amd64 or linux/arm64/v8',
    });
  }
  const last = parts.length - 1;
  const lastSplit = (parts[last] ?? '').split(':');
  const [tail = '', trailingVersion] = lastSplit;
  parts[last] = tail;
  const [osPart = '', architecture = '', variant] = parts;
  const [os = '', leadingVersion] = osPart.split(':');
  const versions = [leadingVersion, trailingVersion].filter((v) => v !== undefined);
  if (
    !os ||
    !architecture ||
    versions.length > 1 ||
    versions[0] === '' ||
    parts.slice(1).some((p) => p.includes(':')) ||
    osPart.split(':').length > 2 ||
    lastSplit.length > 2
  ) {
    throw new InvalidArgumentError(`invalid platform "${truncate(input, 80)}": misplaced os.version`, {
      details: { reason: 'invalid-format' },
      hint: 'give os.version once, as windows/amd64:10.0.17763',
    });
  }
  const platform: Platform = { os, architecture };
  if (versions[0]) platform['os.version'] = versions[0];
  if (variant) platform.variant = variant;
  return platform;
}

/** Formats a platform as `os/arch[/variant][:os.version]`, the form parsePlatform reads back. */
export function formatPlatform(platform: Platform): string {
  const base = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
  return platform['os.version'] ? `${base}:${platform['os.version']}` : base;
}

/**
 * True when an image for `have` runs where `want` is asked for: same os and architecture after
 * normalization, and the same variant when `want` names one (`linux/arm64` matches
 * `linux/arm64/v8`). An `os.version` in `want` must match too.
 */
export function matchPlatform(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w['os.version'] && h['os.version'] && w['os.version'] !== h['os.version']) return false;
  if (want.variant === undefined) return true;
  return (w.variant ?? '') === (h.variant ?? '');
}

const nodeArch: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform of the machine this process runs on, normalized. */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const architecture = nodeArch[process.arch] ?? process.arch;
  const platform: Platform = { os, architecture };
  if (architecture === 'arm') {
    const v = (process.config.variables as { arm_version?: string }).arm_version;
    if (v) platform.variant = `v${v}`;
  }
  return normalizePlatform(platform);
}
