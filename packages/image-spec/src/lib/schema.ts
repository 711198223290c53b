import { parseDigest, registeredAlgorithms } from '@ocikit/digest';
import {
  anyObject,
  array,
  boolean,
  type Check,
  holds,
  literal,
  matches,
  nullish,
  object,
  optional,
  record,
  size,
  string,
} from './check.ts';
import { MediaType } from './media-types.ts';

const mediaTypePattern = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const digestGrammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const mediaType = string(matches(mediaTypePattern, 'not a valid media type (type/subtype)'));

// The descriptor grammar accepts any algorithm; a registered one (sha256, sha512) must also be valid
// for that algorithm (lower-case hex of the right length), as go-digest checks.
const digest = string(matches(digestGrammar, 'not a valid digest (algorithm:encoded)'), (value) => {
  if (!registeredAlgorithms().includes(value.slice(0, value.indexOf(':')))) return undefined;
  try {
    parseDigest(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
});

const text = string();
const texts = array(text);
const annotations = record(text);

/** A platform object (of a descriptor in an index). */
export const platformSchema: Check = object({
  architecture: text,
  os: text,
  'os.version': optional(text),
  'os.features': optional(texts),
  variant: optional(text),
  features: optional(texts),
});

/** A content descriptor. */
export const descriptorSchema: Check = object({
  mediaType,
  digest,
  size,
  urls: optional(array(string(holds((u) => URL.canParse(u), 'not an absolute URI')))),
  annotations: optional(annotations),
  data: optional(string(matches(base64, 'not padded standard base64'))),
  platform: optional(platformSchema),
  artifactType: optional(mediaType),
});

const schemaVersion = literal(2, 'schemaVersion must be 2');

/** An image manifest, OCI or Docker schema 2. */
export const manifestSchema: Check = object({
  schemaVersion,
  mediaType: optional(
    string(
      holds(
        (t) => t === MediaType.ImageManifest || t === MediaType.DockerManifest,
        'not a manifest media type (an index or something else)',
      ),
    ),
  ),
  artifactType: optional(mediaType),
  config: descriptorSchema,
  layers: array(descriptorSchema, { length: 1, message: 'needs at least one layer' }),
  subject: optional(descriptorSchema),
  annotations: optional(annotations),
});

/** An image index, OCI or a Docker manifest list. */
export const indexSchema: Check = object({
  schemaVersion,
  mediaType: optional(
    string(
      holds(
        (t) => t === MediaType.ImageIndex || t === MediaType.DockerManifestList,
        'not an index media type (a manifest or something else)',
      ),
    ),
  ),
  artifactType: optional(mediaType),
  manifests: array(descriptorSchema),
  subject: optional(descriptorSchema),
  annotations: optional(annotations),
});

const stringSet = nullish(record(anyObject));

/** An image configuration. */
export const configSchema: Check = object({
  created: optional(text),
  author: optional(text),
  architecture: text,
  os: text,
  'os.version': optional(text),
  'os.features': optional(texts),
  variant: optional(text),
  config: optional(
    object({
      User: optional(text),
      ExposedPorts: stringSet,
      Env: nullish(array(string(matches(/^[^=]+=/, 'must be NAME=VALUE')))),
      Entrypoint: nullish(texts),
      Cmd: nullish(texts),
      Volumes: stringSet,
      WorkingDir: optional(text),
      Labels: nullish(annotations),
      StopSignal: optional(text),
      ArgsEscaped: optional(boolean),
    }),
  ),
  rootfs: object({ type: literal('layers', "must be 'layers'"), diff_ids: array(digest) }),
  history: optional(
    array(
      object({
        created: optional(text),
        created_by: optional(text),
        author: optional(text),
        comment: optional(text),
        empty_layer: optional(boolean),
      }),
    ),
  ),
});

/** An image layout's `oci-layout` file. */
export const layoutSchema: Check = object({ imageLayoutVersion: text });
