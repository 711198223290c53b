// The `container` and `image` command groups: their verbs are the top-level commands they name
// (decision 201), --help lists them, and a prune's --filter is parsed or refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../lib/commands.ts';
import { groupAliases } from '../lib/group-aliases.ts';
import { runCli } from '../lib/test-cli.ts';
import { parsePruneFilters } from './groups.ts';

const root = mkdtempSync(join(tmpdir(), 'ocikit-groups-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('container and image groups', () => {
  it('alias only commands that exist, and --help lists every verb', async () => {
    for (const [group, verbs] of Object.entries(groupAliases)) {
      const help = await runCli([group, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ocikit ${group} prune`);
      for (const [verb, command] of Object.entries(verbs)) {
        expect(Object.keys(commands)).toContain(command);
        expect(help.stdout).toContain(verb === command ? verb : `${verb} (${command})`);
      }
    }
  });

  it('container ls is ps and image ls is images, flags and all; an unknown verb exits 125', async () => {
    for (const [alias, command] of [
      [
        ['container', 'ls', '-a'],
        ['ps', '-a'],
      ],
      [
        ['image', 'ls', '--format', '{{.ID}}'],
        ['images', '--format', '{{.ID}}'],
      ],
      [
        ['container', 'ps', '--help'],
        ['ps', '--help'],
      ],
    ] as const) {
      const [a, b] = [await runCli(['--root', root, ...alias]), await runCli(['--root', root, ...command])];
      expect(a).toEqual(b);
      expect(a.code).toBe(0);
    }
    const bad = await runCli(['--root', root, 'container', 'frob']);
    expect(bad).toMatchObject({ code: 125, stderr: expect.stringContaining('unknown command "frob"') });
  });

  it('without -f and with no answer (stdin at its end) a prune asks, removes nothing and exits 0, as system prune', async () => {
    for (const [args, question] of [
      [['container', 'prune'], 'WARNING! This will remove all non running containers.\n'],
      [
        ['image', 'prune', '-a'],
        'WARNING! This command removes all images without at least one container associated with them.\n',
      ],
    ] as const) {
      const r = await runCli(['--root', root, ...args], { stdin: '' });
      expect(r).toEqual({
        code: 0,
        stdout: '',
        stderr: `${question}Are you sure you want to continue? [y/N] `,
      });
    }
  });

  it('parses until=, label= and label!= filters, and refuses others as podman does', () => {
    expect(parsePruneFilters(['until=1700000000', 'label=a', 'label=b=c', 'label!=d=e'], 'x')).toEqual({
      until: 1_700_000_000_000,
      labels: ['a', 'b=c'],
      notLabels: ['d=e'],
    });
    expect(parsePruneFilters(undefined, 'x')).toBeUndefined();
    for (const bad of ['bogus=1', 'label', 'until=', 'until=yesterday'])
      expect(() => parsePruneFilters([bad], 'ocikit image prune')).toThrow(/ocikit image prune/);
  });
});
