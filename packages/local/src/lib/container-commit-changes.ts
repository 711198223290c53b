// The `changes` of containers.commit (`docker commit --change`): the Dockerfile instructions that
// set config fields, applied to an image config. The local engine cannot use @ocikit/build's parser
// (local does not depend on build), and these ten instructions need only words, quotes and JSON.
import { posix } from 'node:path';
import type { ImageConfig } from '@ocikit/image-spec';

type RunConfig = NonNullable<ImageConfig['config']>;

/** The instructions `changes` may hold, as Docker's commit takes them. */
export const COMMIT_INSTRUCTIONS = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'ONBUILD',
  'USER',
  'VOLUME',
  'WORKDIR',
  'STOPSIGNAL',
] as const;

/** Splits `text` into words at unquoted blanks; quotes (`"…"`, `'…'`) and backslash escapes removed. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in ${JSON.stringify(text)}`);
  if (inWord) words.push(word);
  return words;
}

/** A JSON array of strings (exec form), or undefined when `text` is not one. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** `KEY=VALUE …` pairs, or the old `KEY VALUE` form (one pair, the rest of the line its value). */
function pairs(instruction: string, text: string): [string, string][] {
  const words = splitWords(text);
  if (words.length === 0) throw new Error(`${instruction} needs at least one argument`);
  if (!(words[0] as string).includes('=')) {
    if (instruction === 'LABEL' || words.length < 2)
      throw new Error(`${instruction} ${text}: expected KEY=VALUE`);
    const key = words[0] as string;
    return [[key, text.slice(text.indexOf(key) + key.length).trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new Error(`${instruction} ${text}: ${JSON.stringify(w)} is not KEY=VALUE`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/**
 * Applies one change (`CMD ["sh"]`, `ENV A=1`, `EXPOSE 80/tcp`, …) to `config`, as a Dockerfile
 * instruction would: shell forms of CMD and ENTRYPOINT run under `/bin/sh -c`, a relative WORKDIR
 * goes under the current one, EXPOSE without a protocol is tcp. Throws an Error saying what is
 * wrong for anything else (the caller makes it a standard error).
 */
export function applyChange(config: RunConfig, change: string): void {
  const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
  const instruction = m?.[1]?.toUpperCase() ?? '';
  const text = (m?.[2] ?? '').trim();
  if (!(COMMIT_INSTRUCTIONS as readonly string[]).includes(instruction))
    throw new Error(
      `${JSON.stringify(change)}: a change is one of ${COMMIT_INSTRUCTIONS.join(', ')} with its arguments`,
    );
  const command = () => jsonArray(text) ?? ['/bin/sh', '-c', text];
  switch (instruction) {
    case 'CMD':
      config.Cmd = command();
      return;
    case 'ENTRYPOINT':
      config.Entrypoint = command();
      // as in a Dockerfile, an ENTRYPOINT resets the CMD of the base image
      delete config.Cmd;
      return;
    case 'ENV': {
      const env = [...(config.Env ?? [])];
      for (const [k, v] of pairs(instruction, text)) {
        const at = env.findIndex((e) => e.startsWith(`${k}=`));
        if (at >= 0) env[at] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      config.Env = env;
      return;
    }
    case 'LABEL':
      config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(pairs(instruction, text)) };
      return;
    case 'EXPOSE': {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of splitWords(text)) {
        if (!/^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/i.test(p))
          throw new Error(`EXPOSE: ${JSON.stringify(p)} is not PORT[/PROTOCOL]`);
        ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      config.ExposedPorts = ports;
      return;
    }
    case 'VOLUME': {
      const volumes = { ...(config.Volumes ?? {}) };
      for (const v of jsonArray(text) ?? splitWords(text)) volumes[v] = {};
      config.Volumes = volumes;
      return;
    }
    case 'USER':
      if (text === '') throw new Error('USER needs a user');
      config.User = text;
      return;
    case 'WORKDIR':
      if (text === '') throw new Error('WORKDIR needs a directory');
      config.WorkingDir = posix.resolve(config.WorkingDir || '/', splitWords(text).join(' '));
      return;
    case 'STOPSIGNAL':
      if (!/^(?:SIG)?[A-Z0-9+-]+$|^\d+$/i.test(text))
        throw new Error(`STOPSIGNAL: ${JSON.stringify(text)} is not a signal`);
      config.StopSignal = text;
      return;
    case 'ONBUILD': {
      const onBuild = Array.isArray(config['OnBuild']) ? (config['OnBuild'] as string[]) : [];
      config['OnBuild'] = [...onBuild, text];
      return;
    }
  }
}
