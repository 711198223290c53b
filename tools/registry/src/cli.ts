#!/usr/bin/env node
// ocikit-test-registry: starts the real registry for benchmarks and manual use, prints its URL and
// credentials as one JSON line, and stays up until SIGINT/SIGTERM.
//
//   node --conditions=@ocikit/source tools/registry/src/cli.ts start --auth basic
import { parseArgs } from 'node:util';
import { type AuthMode, startRegistry } from './lib/registry.ts';
import type { Credentials } from './lib/token-issuer.ts';

const USAGE = `usage: ocikit-test-registry start [--auth none|basic|token] [--user NAME:PASSWORD]... [--no-anonymous-pull]
Prints {url, host, auth, credentials, dataDir, tokenIssuer?} as JSON and serves until killed.`;

function fail(message: string): never {
  process.stderr.write(`ocikit-test-registry: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals[0] !== 'start' || positionals.length !== 1)
    fail(`unknown command ${JSON.stringify(positionals.join(' '))}`);
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'basic' && auth !== 'token')
    fail(`--auth must be none, basic or token, not ${JSON.stringify(auth.slice(0, 40))}`);
  const users: Credentials[] = [];
  for (const user of values.user ?? []) {
    const colon = user.indexOf(':');
    if (colon <= 0) fail('--user must be NAME:PASSWORD');
    users.push({ username: user.slice(0, colon), password: user.slice(colon + 1) });
  }
  const registry = await startRegistry({
    auth: auth satisfies AuthMode,
    ...(users.length > 0 ? { users } : {}),
    ...(values['no-anonymous-pull'] === true ? { anonymousPull: false } : {}),
  });
  const issuer = registry.tokenIssuer;
  process.stdout.write(
    `${JSON.stringify({
      url: registry.url,
      host: registry.host,
      auth: registry.auth,
      credentials: registry.credentials,
      dataDir: registry.dataDir,
      ...(issuer === undefined
        ? {}
        : { tokenIssuer: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer } }),
    })}\n`,
  );
  const shutdown = (): void => {
    registry.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  setInterval(() => undefined, 1 << 30);
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      auth: { type: 'string' },
      user: { type: 'string', multiple: true },
      'no-anonymous-pull': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ocikit-test-registry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
