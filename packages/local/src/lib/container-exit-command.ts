// Where the exit command script is, and how to run it (decision 131).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined | null = null;

/**
 * The script conmon runs when an autoRemove container exits: `container-exit.js` beside this module
 * (`.ts` when running from source), else the one in the installed @ocikit/local (when this code
 * was bundled into another file, as the ocikit executable is). Undefined when neither is there.
 */
function exitScript(): string | undefined {
  if (found !== null) return found;
  const here = fileURLToPath(import.meta.url);
  const candidates = [join(dirname(here), `container-exit${here.endsWith('.ts') ? '.ts' : '.js'}`)];
  try {
    const pkg = createRequire(import.meta.url).resolve('@ocikit/local/package.json');
    candidates.push(join(dirname(pkg), 'dist', 'lib', 'container-exit.js'));
  } catch {
    // not installed as a package (running from a checkout)
  }
  found = candidates.find((c) => existsSync(c));
  return found;
}

/**
 * The command conmon runs once container `id` of state root `root` has exited: this very Node
 * with the library's own script, which records the `die` event and, with `remove`, removes the
 * container; the `@ocikit/source` condition for a `.ts` script (a checkout run from source).
 * `env` is the engine's environment: its `CNI_PATH` goes along as `--cni-path`, because conmon
 * hands the command its own environment, not the engine's, and the container's DEL must run the
 * plugins its ADD ran. Undefined when the script cannot be found: `containers.list` then removes an
 * exited autoRemove container later, as any abandoned one.
 */
export function exitCommand(
  root: string,
  id: string,
  remove: boolean,
  env: Readonly<Record<string, string | undefined>> = {},
): string[] | undefined {
  const script = exitScript();
  if (!script) return undefined;
  const flags = script.endsWith('.ts') ? ['--conditions=@ocikit/source', '--no-warnings'] : ['--no-warnings'];
  const cniPath = env['CNI_PATH'];
  return [
    process.execPath,
    ...flags,
    script,
    root,
    id,
    ...(remove ? ['remove'] : []),
    ...(cniPath ? ['--cni-path', cniPath] : []),
  ];
}
