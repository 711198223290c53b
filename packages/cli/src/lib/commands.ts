import type { Command } from './command.ts';

/** A command's module, loaded only when that command runs so start-up stays light. */
export type CommandLoader = () => Promise<Command>;

const load =
  <M extends Record<string, unknown>>(importer: () => Promise<M>, name: keyof M): CommandLoader =>
  async () =>
    (await importer())[name] as Command;

/**
 * Every `ocikit` subcommand, in the order `ocikit --help` lists them. The summaries repeat the
 * commands' own, so `--help` needs no command module; a test keeps the two in step.
 */
export const commands: Readonly<Record<string, { summary: string; load: CommandLoader }>> = {
  digest: {
    summary: 'Print the digest of a file or stdin',
    load: load(() => import('../commands/digest.ts'), 'digestCommand'),
  },
  validate: {
    summary: 'Validate an OCI document (manifest, index, config, runtime config, …)',
    load: load(() => import('../commands/validate.ts'), 'validateCommand'),
  },
  ls: {
    summary: 'List the images in an OCI layout',
    load: load(() => import('../commands/ls.ts'), 'lsCommand'),
  },
  copy: {
    summary: 'Copy an image between OCI layouts',
    load: load(() => import('../commands/copy.ts'), 'copyCommand'),
  },
  fsck: {
    summary: 'Check every blob and reference of an OCI layout',
    load: load(() => import('../commands/fsck.ts'), 'fsckCommand'),
  },
  unpack: {
    summary: "Unpack an image's layers into a directory",
    load: load(() => import('../commands/unpack.ts'), 'unpackCommand'),
  },
  bundle: {
    summary: 'Make an OCI runtime bundle (rootfs and config.json) from an image',
    load: load(() => import('../commands/bundle.ts'), 'bundleCommand'),
  },
  snapshots: {
    summary: 'List, remove, or unpack images into, the local snapshots',
    load: load(() => import('../commands/snapshots.ts'), 'snapshotsCommand'),
  },
  diff: {
    summary: 'Write the changes between two directories as a layer',
    load: load(() => import('../commands/diff.ts'), 'diffCommand'),
  },
  gc: {
    summary: 'Remove blobs no image in an OCI layout refers to',
    load: load(() => import('../commands/gc.ts'), 'gcCommand'),
  },
};
