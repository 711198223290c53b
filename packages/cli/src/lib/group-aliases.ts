// The `container` and `image` groups' verbs that are top-level commands (decision 201): a module of
// its own, read by `main` (to rewrite the command line) and by the groups' help, without the command table.

/**
 * The verbs of the `container` and `image` groups besides `prune`, as podman's and docker's command
 * groups have them: each is the top-level command it names (`container ls` is `ps`, `image rm` is
 * `rmi`), with that command's flags; `main` rewrites the command line before parsing it.
 */
export const groupAliases: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  container: {
    ls: 'ps',
    list: 'ps',
    ps: 'ps',
    create: 'create',
    run: 'run',
    start: 'start',
    stop: 'stop',
    kill: 'kill',
    wait: 'wait',
    rm: 'rm',
    remove: 'rm',
    inspect: 'inspect',
    logs: 'logs',
    exec: 'exec',
    attach: 'attach',
    pause: 'pause',
    unpause: 'unpause',
    commit: 'commit',
    port: 'port',
  },
  image: {
    ls: 'images',
    list: 'images',
    rm: 'rmi',
    remove: 'rmi',
    tag: 'tag',
    pull: 'pull',
    push: 'push',
    history: 'history',
    inspect: 'inspect',
    build: 'build',
  },
};
