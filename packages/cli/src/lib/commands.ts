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
    summary: 'Print the digest of a file, stdin, or an image',
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
  pull: {
    summary: 'Pull an image from a registry into the engine (the local store by default)',
    load: load(() => import('../commands/pull.ts'), 'pullCommand'),
  },
  push: {
    summary: 'Push an image from the engine (the local store by default) or a layout to a registry',
    load: load(() => import('../commands/push.ts'), 'pushCommand'),
  },
  copy: {
    summary: 'Copy an image between registries, OCI layouts and the local store',
    load: load(() => import('../commands/copy.ts'), 'copyCommand'),
  },
  images: {
    summary: 'List the images in the engine (the local store by default)',
    load: load(() => import('../commands/images.ts'), 'imagesCommand'),
  },
  tag: {
    summary: 'Give an image in the engine (the local store by default) another name',
    load: load(() => import('../commands/images.ts'), 'tagCommand'),
  },
  rmi: {
    summary: 'Remove images from the engine (the local store by default)',
    load: load(() => import('../commands/images.ts'), 'rmiCommand'),
  },
  image: {
    summary:
      'Remove dangling images, or with -a every image no container uses (image prune); image ls, rm, … are images, rmi, …',
    load: load(() => import('../commands/groups.ts'), 'imageCommand'),
  },
  build: {
    summary: 'Build an image from a Dockerfile, daemonless, into the local store',
    load: load(() => import('../commands/build.ts'), 'buildCommand'),
  },
  history: {
    summary: 'Show the steps that made an image, newest first',
    load: load(() => import('../commands/history.ts'), 'historyCommand'),
  },
  commit: {
    summary: "Make a new image of a container's changes",
    load: load(() => import('../commands/commit.ts'), 'commitCommand'),
  },
  inspect: {
    summary: "Show a container's record, or an image's digest, platforms, config and layers",
    load: load(() => import('../commands/inspect.ts'), 'inspectCommand'),
  },
  manifest: {
    summary: 'Print the raw manifest or index of an image',
    load: load(() => import('../commands/manifest.ts'), 'manifestCommand'),
  },
  config: {
    summary: 'Print the config of an image',
    load: load(() => import('../commands/manifest.ts'), 'configCommand'),
  },
  blob: {
    summary: 'Write one blob of a repository to stdout',
    load: load(() => import('../commands/blob.ts'), 'blobCommand'),
  },
  tags: {
    summary: 'List the tags of a repository in a registry',
    load: load(() => import('../commands/remote.ts'), 'tagsCommand'),
  },
  catalog: {
    summary: 'List the repositories of a registry',
    load: load(() => import('../commands/remote.ts'), 'catalogCommand'),
  },
  delete: {
    summary: 'Delete an image (manifest) from a registry',
    load: load(() => import('../commands/remote.ts'), 'deleteCommand'),
  },
  login: {
    summary: 'Log in to a registry',
    load: load(() => import('../commands/login.ts'), 'loginCommand'),
  },
  logout: {
    summary: 'Remove stored credentials for a registry',
    load: load(() => import('../commands/login.ts'), 'logoutCommand'),
  },
  run: {
    summary: 'Run a command in a new container',
    load: load(() => import('../commands/containers.ts'), 'runCommand'),
  },
  create: {
    summary: 'Create a container without starting it',
    load: load(() => import('../commands/containers.ts'), 'createCommand'),
  },
  start: {
    summary: 'Start a created container',
    load: load(() => import('../commands/containers.ts'), 'startCommand'),
  },
  exec: {
    summary: 'Run a command in a running container',
    load: load(() => import('../commands/containers.ts'), 'execCommand'),
  },
  ps: {
    summary: 'List containers',
    load: load(() => import('../commands/containers.ts'), 'psCommand'),
  },
  logs: {
    summary: "Print a container's output",
    load: load(() => import('../commands/containers.ts'), 'logsCommand'),
  },
  attach: {
    summary: "Attach to a running detached container's stdio (and terminal)",
    load: load(() => import('../commands/containers.ts'), 'attachCommand'),
  },
  wait: {
    summary: 'Wait for containers to exit and print their exit codes',
    load: load(() => import('../commands/containers.ts'), 'waitCommand'),
  },
  kill: {
    summary: 'Send a signal to containers (default SIGKILL)',
    load: load(() => import('../commands/containers.ts'), 'killCommand'),
  },
  stop: {
    summary: 'Stop containers: their stop signal, then SIGKILL after a timeout',
    load: load(() => import('../commands/containers.ts'), 'stopCommand'),
  },
  rm: {
    summary: 'Remove containers',
    load: load(() => import('../commands/containers.ts'), 'rmCommand'),
  },
  pause: {
    summary: 'Freeze every process of containers',
    load: load(() => import('../commands/containers.ts'), 'pauseCommand'),
  },
  unpause: {
    summary: 'Thaw paused containers',
    load: load(() => import('../commands/containers.ts'), 'unpauseCommand'),
  },
  container: {
    summary: 'Remove every stopped container (container prune); container ls, rm, … are ps, rm, …',
    load: load(() => import('../commands/groups.ts'), 'containerCommand'),
  },
  fsck: {
    summary: 'Check every blob and reference of the local store or an OCI layout',
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
  volume: {
    summary: 'Create, list, inspect and remove volumes',
    load: load(() => import('../commands/volumes.ts'), 'volumeCommand'),
  },
  network: {
    summary: 'Create, list, inspect, connect and remove networks',
    load: load(() => import('../commands/networks.ts'), 'networkCommand'),
  },
  port: {
    summary: "List a container's published ports",
    load: load(() => import('../commands/networks.ts'), 'portCommand'),
  },
  system: {
    summary:
      "Show the engine's events, state and version, or the local state's disk use; remove what nothing uses",
    load: load(() => import('../commands/system.ts'), 'systemCommand'),
  },
  key: {
    summary: 'Generate a cosign (sigstore) key pair for signing images',
    load: load(() => import('../commands/sign.ts'), 'keyCommand'),
  },
  sign: {
    summary: 'Sign an image in a registry with a cosign key (sigstore) or a GPG key (simple signing)',
    load: load(() => import('../commands/sign.ts'), 'signCommand'),
  },
  verify: {
    summary: "Verify an image's cosign signatures with a public key or a trust policy",
    load: load(() => import('../commands/sign.ts'), 'verifyCommand'),
  },
  gc: {
    summary: 'Remove blobs, partial downloads and snapshots nothing uses (the local store, or an OCI layout)',
    load: load(() => import('../commands/gc.ts'), 'gcCommand'),
  },
};
