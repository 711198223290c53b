import { InvalidArgumentError } from '@ocikit/errors';
import { removeCredentials, saveCredentials } from '@ocikit/registry';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { readInput } from '../lib/input.ts';
import { println } from '../lib/output.ts';
import { registryFlags, registryFlagsHelp, transportFor } from '../lib/registry.ts';

function registryHost(arg: string | undefined): string {
  const host = (arg ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!/^[a-zA-Z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(host)) {
    throw new InvalidArgumentError(`"${arg}" is not a registry host`, {
      hint: 'write HOST[:PORT], e.g. localhost:5000',
    });
  }
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** `ocikit login REGISTRY`: check credentials and store them in Docker's config.json. */
export const loginCommand = defineCommand({
  name: 'login',
  summary: 'Log in to a registry',
  usage: 'ocikit login [flags] -u USER --password-stdin REGISTRY',
  description:
    'Checks the credentials with the registry, then stores them where Docker does ($DOCKER_CONFIG/config.json, or its credsStore/credHelpers). ' +
    'A token service that hands out an identity (refresh) token gets that stored instead of the password.',
  options: {
    username: { type: 'string', short: 'u' },
    'password-stdin': { type: 'boolean' },
    ...registryFlags,
  },
  help: { username: 'user name', 'password-stdin': 'read the password from stdin', ...registryFlagsHelp },
  async run(ctx, { values, positionals }) {
    expectPositionals(loginCommand, positionals, 1);
    const registry = registryHost(positionals[0]);
    if (!values.username) throw new InvalidArgumentError('ocikit login: give the user name with -u USER');
    if (!values['password-stdin']) {
      throw new InvalidArgumentError('ocikit login: give the password on stdin with --password-stdin', {
        hint: 'echo "$PASSWORD" | ocikit login -u USER --password-stdin REGISTRY',
      });
    }
    const password = Buffer.from(await readInput(ctx, '-', 64 * 1024))
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password === '')
      throw new InvalidArgumentError('ocikit login: the password read from stdin is empty');
    const transport = transportFor(ctx, values);
    try {
      const identityToken = await transport.login(
        registry,
        { username: values.username, password },
        { signal: ctx.signal },
      );
      const where = await saveCredentials(
        registry,
        identityToken !== undefined
          ? { username: values.username, identityToken }
          : { username: values.username, password },
        { env: ctx.env as NodeJS.ProcessEnv },
      );
      if (!ctx.quiet) println(ctx, `Login Succeeded (${registry}${where ? `, saved to ${where}` : ''})`);
      return 0;
    } finally {
      await transport.close();
    }
  },
});

/** `ocikit logout REGISTRY`: forget stored credentials. */
export const logoutCommand = defineCommand({
  name: 'logout',
  summary: 'Remove stored credentials for a registry',
  usage: 'ocikit logout REGISTRY',
  options: {},
  async run(ctx, { positionals }) {
    expectPositionals(logoutCommand, positionals, 1);
    const registry = registryHost(positionals[0]);
    const removed = await removeCredentials(registry, { env: ctx.env as NodeJS.ProcessEnv });
    if (!removed) throw new InvalidArgumentError(`not logged in to ${registry}`);
    if (!ctx.quiet) println(ctx, `Removed login credentials for ${registry}`);
    return 0;
  },
});
