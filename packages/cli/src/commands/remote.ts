import { InvalidArgumentError } from '@ocikit/errors';
import { parseNormalizedReference } from '@ocikit/reference';
import { listCatalog, openRepository } from '@ocikit/registry';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { printJson, println } from '../lib/output.ts';
import {
  expectRemote,
  parseLimit,
  registryFlags,
  registryFlagsHelp,
  remoteImage,
  transportFor,
} from '../lib/registry.ts';

/** `ocikit tags REPO`: a repository's tags. */
export const tagsCommand = defineCommand({
  name: 'tags',
  summary: 'List the tags of a repository in a registry',
  usage: 'ocikit tags [flags] REPO',
  options: { ...registryFlags, limit: { type: 'string' } },
  help: { ...registryFlagsHelp, limit: 'list at most this many' },
  async run(ctx, { values, positionals }) {
    expectPositionals(tagsCommand, positionals, 1);
    const arg = positionals[0] ?? '';
    expectRemote(arg, 'ocikit tags: the repository');
    const ref = parseNormalizedReference(arg);
    const limit = parseLimit(values.limit);
    const transport = transportFor(ctx, values);
    try {
      const repo = openRepository(ref, { transport });
      const tags = await repo.tags({ signal: ctx.signal, ...(limit !== undefined ? { limit } : {}) });
      if (ctx.json) printJson(ctx, { name: repo.name, tags });
      else for (const t of tags) println(ctx, t);
      return 0;
    } finally {
      await transport.close();
    }
  },
});

/** `ocikit catalog REGISTRY`: the repositories of a registry. */
export const catalogCommand = defineCommand({
  name: 'catalog',
  summary: 'List the repositories of a registry',
  usage: 'ocikit catalog [flags] REGISTRY',
  options: { ...registryFlags, limit: { type: 'string' } },
  help: { ...registryFlagsHelp, limit: 'list at most this many' },
  async run(ctx, { values, positionals }) {
    expectPositionals(catalogCommand, positionals, 1);
    const registry = (positionals[0] ?? '').replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (!/^[a-zA-Z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(registry)) {
      throw new InvalidArgumentError(`ocikit catalog: "${positionals[0]}" is not a registry host`, {
        hint: 'write HOST[:PORT], e.g. localhost:5000',
      });
    }
    const limit = parseLimit(values.limit);
    const transport = transportFor(ctx, values);
    try {
      const names = await listCatalog(registry, {
        transport,
        signal: ctx.signal,
        pageSize: 1000,
        ...(limit !== undefined ? { limit } : {}),
      });
      if (ctx.json) printJson(ctx, { repositories: names });
      else for (const n of names) println(ctx, n);
      return 0;
    } finally {
      await transport.close();
    }
  },
});

/** `ocikit delete REF`: delete a manifest from a registry. */
export const deleteCommand = defineCommand({
  name: 'delete',
  summary: 'Delete an image (manifest) from a registry',
  usage: 'ocikit delete [flags] REF',
  description:
    'A tag is resolved to its digest and that manifest is deleted, as skopeo does: every tag pointing at it goes too. ' +
    'Prints the digest deleted.',
  options: registryFlags,
  help: registryFlagsHelp,
  async run(ctx, { values, positionals }) {
    expectPositionals(deleteCommand, positionals, 1);
    const arg = positionals[0] ?? '';
    expectRemote(arg, 'ocikit delete: the image');
    const transport = transportFor(ctx, values);
    try {
      const { repo, ref, name } = remoteImage(arg, transport);
      const desc = await repo.resolve(ref, { signal: ctx.signal });
      await repo.delete(desc, { signal: ctx.signal });
      if (ctx.json) printJson(ctx, { reference: name, digest: desc.digest });
      else println(ctx, desc.digest);
      return 0;
    } finally {
      await transport.close();
    }
  },
});
