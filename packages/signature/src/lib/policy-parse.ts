// containers-policy.json(5) parsed as strictly as containers/image's policy_config.go
// (ParanoidUnmarshalJSONObject): unknown, duplicate, missing or mistyped fields refuse the whole
// file, and every error names the file and the JSON path inside it.
import { parseDigest } from '@ocikit/digest';
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import { signedIdentityProblem } from './identity.ts';
import { isJsonObject, type JsonValue, parseStrictJson } from './payload-json.ts';
import type {
  Policy,
  PolicyRequirement,
  SignedByRequirement,
  SignedIdentity,
  SigstoreSignedRequirement,
} from './types.ts';

type JsonObject = { [key: string]: JsonValue };

/** Options of {@link parsePolicy}. */
export interface ParsePolicyOptions {
  /** The file the text came from, named in errors and kept as `policy.path`. */
  path?: string | undefined;
}

class PolicyFormat {
  private readonly file: string | undefined;

  constructor(file: string | undefined) {
    this.file = file;
  }

  fail(jsonPath: string, why: string, extra: Record<string, unknown> = {}): never {
    const where = this.file === undefined ? 'invalid policy' : `invalid policy in ${this.file}`;
    throw new InvalidArgumentError(`${where}${jsonPath === '' ? '' : ` at ${jsonPath}`}: ${why}`, {
      details: { reason: 'invalid-policy', file: this.file, jsonPath, ...extra },
      hint: 'see containers-policy.json(5); unknown or misspelled fields are refused, never ignored',
    });
  }

  object(value: JsonValue | undefined, jsonPath: string): JsonObject {
    if (!isJsonObject(value)) this.fail(jsonPath, `expected a JSON object, got ${describe(value)}`);
    return value;
  }

  string(value: JsonValue | undefined, jsonPath: string): string {
    if (typeof value !== 'string') this.fail(jsonPath, `expected a string, got ${describe(value)}`);
    return value;
  }

  /** A JSON string holding base64 (Go's []byte fields): standard alphabet, padded. */
  base64(value: JsonValue | undefined, jsonPath: string): string {
    const s = this.string(value, jsonPath).replace(/[\r\n]/g, '');
    if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) this.fail(jsonPath, 'not valid base64');
    return s;
  }

  strings(value: JsonValue | undefined, jsonPath: string): string[] {
    if (!Array.isArray(value)) this.fail(jsonPath, `expected an array of strings, got ${describe(value)}`);
    return value.map((v, i) => this.string(v, `${jsonPath}[${i}]`));
  }

  /** Checks that `obj` has only `allowed` keys and all of `required`. */
  fields(obj: JsonObject, jsonPath: string, allowed: readonly string[], required: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(jsonPath, `unknown field ${JSON.stringify(truncate(key, 60))}`);
    }
    for (const key of required) {
      if (!Object.hasOwn(obj, key)) this.fail(jsonPath, `missing field ${JSON.stringify(key)}`);
    }
  }
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${truncate(JSON.stringify(value), 40)}`;
}

/** `a.b`, `a["x y"]`: a JSON path segment for a key. */
function member(base: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(truncate(key, 80))}]`;
}

const isAbsoluteClean = (scope: string): string | undefined => {
  if (!scope.startsWith('/')) return 'must be an absolute path';
  if (scope === '/') return 'the top-level scope "/" is forbidden; use the transport default scope ""';
  const cleaned = cleanPath(scope);
  if (cleaned !== scope) return `uses a non-canonical path format, perhaps try ${cleaned}`;
  return undefined;
};

/** Go's `filepath.Clean` for absolute POSIX paths. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** Go's `digest.Parse(s) == nil`: a valid digest of a known algorithm. */
function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** Each transport's `ValidatePolicyConfigurationScope`, for scopes other than `""`. */
const scopeValidators: Partial<Record<string, (scope: string) => string | undefined>> = {
  oci: isAbsoluteClean,
  'oci-archive': isAbsoluteClean,
  dir: isAbsoluteClean,
  sif: isAbsoluteClean,
  'docker-archive': () => 'docker-archive: does not support any scopes except the default "" one',
  tarball: () => 'tarball: does not support any scopes except the default "" one',
  'docker-daemon': (scope) =>
    isDigest(scope) ? `docker-daemon: can not use algo:digest value ${scope} as a namespace` : undefined,
};

const REQUIREMENT_TYPES = ['insecureAcceptAnything', 'reject', 'signedBy', 'sigstoreSigned'] as const;

function parseSignedIdentity(
  f: PolicyFormat,
  value: JsonValue | undefined,
  jsonPath: string,
): SignedIdentity {
  const obj = f.object(value, jsonPath);
  const type = f.string(obj.type, member(jsonPath, 'type'));
  let identity: SignedIdentity;
  switch (type) {
    case 'matchExact':
    case 'matchRepoDigestOrExact':
    case 'matchRepository':
      f.fields(obj, jsonPath, ['type'], ['type']);
      identity = { type };
      break;
    case 'exactReference':
      f.fields(obj, jsonPath, ['type', 'dockerReference'], ['type', 'dockerReference']);
      identity = {
        type,
        dockerReference: f.string(obj.dockerReference, member(jsonPath, 'dockerReference')),
      };
      break;
    case 'exactRepository':
      f.fields(obj, jsonPath, ['type', 'dockerRepository'], ['type', 'dockerRepository']);
      identity = {
        type,
        dockerRepository: f.string(obj.dockerRepository, member(jsonPath, 'dockerRepository')),
      };
      break;
    case 'remapIdentity':
      f.fields(obj, jsonPath, ['type', 'prefix', 'signedPrefix'], ['type', 'prefix', 'signedPrefix']);
      identity = {
        type,
        prefix: f.string(obj.prefix, member(jsonPath, 'prefix')),
        signedPrefix: f.string(obj.signedPrefix, member(jsonPath, 'signedPrefix')),
      };
      break;
    default:
      return f.fail(
        member(jsonPath, 'type'),
        `unknown policy reference match type ${JSON.stringify(truncate(type, 60))}`,
      );
  }
  const problem = signedIdentityProblem(identity);
  if (problem !== undefined) f.fail(jsonPath, problem);
  return identity;
}

function parseSignedBy(f: PolicyFormat, obj: JsonObject, jsonPath: string): SignedByRequirement {
  f.fields(obj, jsonPath, ['type', 'keyType', 'keyPath', 'keyPaths', 'keyData', 'signedIdentity'], []);
  const keyType = obj.keyType === undefined ? '' : f.string(obj.keyType, member(jsonPath, 'keyType'));
  if (keyType === '')
    f.fail(member(jsonPath, 'keyType'), 'missing keyType (the only supported value is "GPGKeys")');
  if (keyType !== 'GPGKeys') {
    const known = ['signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'].includes(keyType);
    f.fail(
      member(jsonPath, 'keyType'),
      known
        ? `keyType ${JSON.stringify(keyType)} is not implemented (containers/image rejects every image with it); use "GPGKeys"`
        : `unrecognized keyType value ${JSON.stringify(truncate(keyType, 60))}`,
    );
  }
  const req: SignedByRequirement = { type: 'signedBy', keyType: 'GPGKeys' };
  let sources = 0;
  if (obj.keyPath !== undefined) {
    req.keyPath = f.string(obj.keyPath, member(jsonPath, 'keyPath'));
    if (req.keyPath !== '') sources++;
  }
  if (obj.keyPaths !== undefined) {
    if (obj.keyPaths !== null) {
      req.keyPaths = f.strings(obj.keyPaths, member(jsonPath, 'keyPaths'));
      sources++;
    }
  }
  if (obj.keyData !== undefined) {
    if (obj.keyData !== null) {
      req.keyData = f.base64(obj.keyData, member(jsonPath, 'keyData'));
      sources++;
    }
  }
  const given = ['keyPath', 'keyPaths', 'keyData'].filter((k) => obj[k] !== undefined).length;
  if (given === 0)
    f.fail(jsonPath, 'exactly one of keyPath, keyPaths and keyData must be specified, none of them present');
  if (given > 1)
    f.fail(jsonPath, 'exactly one of keyPath, keyPaths and keyData must be specified, more than one present');
  if (sources !== 1) f.fail(jsonPath, 'exactly one of keyPath, keyPaths and keyData must be specified');
  if (obj.signedIdentity !== undefined) {
    req.signedIdentity = parseSignedIdentity(f, obj.signedIdentity, member(jsonPath, 'signedIdentity'));
  }
  return req;
}

function parseSigstoreSigned(f: PolicyFormat, obj: JsonObject, jsonPath: string): SigstoreSignedRequirement {
  for (const later of ['keyDatas', 'pki', 'rekorPublicKeyPaths', 'rekorPublicKeyDatas']) {
    if (Object.hasOwn(obj, later)) {
      f.fail(
        member(jsonPath, later),
        `${later} is not supported by ocikit (added after containers/image 5.23; decision 172)`,
      );
    }
  }
  f.fields(
    obj,
    jsonPath,
    [
      'type',
      'keyPath',
      'keyPaths',
      'keyData',
      'fulcio',
      'rekorPublicKeyPath',
      'rekorPublicKeyData',
      'signedIdentity',
    ],
    [],
  );
  const req: SigstoreSignedRequirement = { type: 'sigstoreSigned' };
  let keySources = 0;
  if (obj.keyPath !== undefined) {
    req.keyPath = f.string(obj.keyPath, member(jsonPath, 'keyPath'));
    if (req.keyPath !== '') keySources++;
  }
  if (obj.keyPaths !== undefined && obj.keyPaths !== null) {
    req.keyPaths = f.strings(obj.keyPaths, member(jsonPath, 'keyPaths'));
    keySources++;
  }
  if (obj.keyData !== undefined && obj.keyData !== null) {
    req.keyData = f.base64(obj.keyData, member(jsonPath, 'keyData'));
    keySources++;
  }
  if (obj.fulcio !== undefined) {
    const p = member(jsonPath, 'fulcio');
    const fo = f.object(obj.fulcio, p);
    f.fields(fo, p, ['caPath', 'caData', 'oidcIssuer', 'subjectEmail'], []);
    const caPath = fo.caPath === undefined ? '' : f.string(fo.caPath, member(p, 'caPath'));
    const caData =
      fo.caData === undefined || fo.caData === null ? undefined : f.base64(fo.caData, member(p, 'caData'));
    if (caPath !== '' && caData !== undefined) f.fail(p, 'caPath and caData cannot be used simultaneously');
    if (caPath === '' && caData === undefined)
      f.fail(p, 'at least one of caPath and caData must be specified');
    const oidcIssuer = fo.oidcIssuer === undefined ? '' : f.string(fo.oidcIssuer, member(p, 'oidcIssuer'));
    if (oidcIssuer === '') f.fail(p, 'oidcIssuer not specified');
    const subjectEmail =
      fo.subjectEmail === undefined ? '' : f.string(fo.subjectEmail, member(p, 'subjectEmail'));
    if (subjectEmail === '') f.fail(p, 'subjectEmail not specified');
    req.fulcio = { oidcIssuer, subjectEmail, ...(caPath !== '' ? { caPath } : { caData }) };
    keySources++;
  }
  if (keySources !== 1)
    f.fail(jsonPath, 'exactly one of keyPath, keyPaths, keyData and fulcio must be specified');
  let rekorSources = 0;
  if (obj.rekorPublicKeyPath !== undefined) {
    req.rekorPublicKeyPath = f.string(obj.rekorPublicKeyPath, member(jsonPath, 'rekorPublicKeyPath'));
    if (req.rekorPublicKeyPath !== '') rekorSources++;
  }
  if (obj.rekorPublicKeyData !== undefined && obj.rekorPublicKeyData !== null) {
    req.rekorPublicKeyData = f.base64(obj.rekorPublicKeyData, member(jsonPath, 'rekorPublicKeyData'));
    rekorSources++;
  }
  if (rekorSources > 1)
    f.fail(jsonPath, 'rekorPublicKeyPath and rekorPublicKeyData cannot be used simultaneously');
  if (req.fulcio !== undefined && rekorSources === 0) {
    f.fail(
      jsonPath,
      'at least one of rekorPublicKeyPath and rekorPublicKeyData must be specified if fulcio is used',
    );
  }
  if (obj.signedIdentity !== undefined) {
    req.signedIdentity = parseSignedIdentity(f, obj.signedIdentity, member(jsonPath, 'signedIdentity'));
  }
  return req;
}

function parseRequirement(
  f: PolicyFormat,
  value: JsonValue | undefined,
  jsonPath: string,
): PolicyRequirement {
  const obj = f.object(value, jsonPath);
  if (!Object.hasOwn(obj, 'type')) f.fail(jsonPath, 'missing field "type"');
  const type = f.string(obj.type, member(jsonPath, 'type'));
  switch (type) {
    case 'insecureAcceptAnything':
    case 'reject':
      f.fields(obj, jsonPath, ['type'], ['type']);
      return { type };
    case 'signedBy':
      return parseSignedBy(f, obj, jsonPath);
    case 'sigstoreSigned':
      return parseSigstoreSigned(f, obj, jsonPath);
    case 'signedBaseLayer':
      return f.fail(
        member(jsonPath, 'type'),
        'signedBaseLayer is not implemented (containers/image rejects every image with it)',
      );
    default:
      return f.fail(
        member(jsonPath, 'type'),
        `unknown policy requirement type ${JSON.stringify(truncate(type, 60))}`,
        {
          known: REQUIREMENT_TYPES,
        },
      );
  }
}

function parseRequirements(
  f: PolicyFormat,
  value: JsonValue | undefined,
  jsonPath: string,
): PolicyRequirement[] {
  if (!Array.isArray(value))
    f.fail(jsonPath, `expected an array of policy requirements, got ${describe(value)}`);
  if (value.length === 0) f.fail(jsonPath, 'list of verification policy requirements must not be empty');
  return value.map((v, i) => parseRequirement(f, v, `${jsonPath}[${i}]`));
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/**
 * Parses the text of a containers-policy.json(5) file as strictly as containers/image: the
 * top level has `default` (required) and `transports` only; scopes are checked per transport
 * (absolute clean paths for `oci`/`dir`/…, only `""` for `docker-archive`/`tarball`); each
 * requirement list is non-empty; each requirement has exactly its own fields (`signedBy` needs
 * `keyType: "GPGKeys"` and exactly one of `keyPath`/`keyPaths`/`keyData`; `sigstoreSigned` exactly
 * one of `keyPath`/`keyPaths`/`keyData`/`fulcio`); unknown requirement and identity types,
 * unknown or duplicate fields refuse the file. Transports this library does not know are kept
 * unchecked, as containers/image keeps them.
 *
 * @throws InvalidArgumentError (`details.reason: 'invalid-policy'`, `details.file`,
 *   `details.jsonPath`) naming the file and the JSON path of what is wrong.
 *
 * @example
 * ```ts
 * const policy = parsePolicy('{"default":[{"type":"reject"}]}');
 * policy.default; // [{ type: 'reject' }]
 * ```
 */
export function parsePolicy(text: string | Uint8Array, options: ParsePolicyOptions = {}): Policy {
  const f = new PolicyFormat(options.path);
  let source: string;
  if (typeof text === 'string') source = text;
  else {
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      return f.fail('', 'the file is not UTF-8 text');
    }
  }
  let doc: JsonValue;
  try {
    doc = parseStrictJson(source, 'policy');
  } catch (e) {
    const offset = (e as InvalidArgumentError).details?.offset;
    const why = (e as Error).message.replace(/^policy: /, '').replace(/ at offset \d+$/, '');
    return f.fail(
      '',
      `malformed JSON: ${why}${typeof offset === 'number' ? ` at ${lineAndColumn(source, offset)}` : ''}`,
      {
        offset,
      },
    );
  }
  const top = f.object(doc, '');
  f.fields(top, '', ['default', 'transports'], []);
  if (top.default === undefined || top.default === null) f.fail('', 'default policy is missing');
  const policy: Policy = { default: parseRequirements(f, top.default, 'default'), transports: {} };
  if (options.path !== undefined) policy.path = options.path;
  if (top.transports !== undefined) {
    const transports = f.object(top.transports, 'transports');
    const out: Record<string, Record<string, PolicyRequirement[]>> = {};
    for (const [name, scopesValue] of Object.entries(transports)) {
      const tPath = member('transports', name);
      const scopes = f.object(scopesValue, tPath);
      const validate = scopeValidators[name];
      const parsed: Record<string, PolicyRequirement[]> = {};
      for (const [scope, reqs] of Object.entries(scopes)) {
        const sPath = member(tPath, scope);
        if (scope !== '' && validate !== undefined) {
          const problem = validate(scope);
          if (problem !== undefined)
            f.fail(sPath, `invalid scope ${JSON.stringify(truncate(scope, 80))}: ${problem}`);
        }
        parsed[scope] = parseRequirements(f, reqs, sPath);
      }
      out[name] = parsed;
    }
    policy.transports = out as Policy['transports'];
  }
  return policy;
}
