import { parseDigest, registeredAlgorithms } from '@ocikit/digest';
import { z } from 'zod';
import { MediaType } from './media-types.ts';

const mediaTypePattern = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const digestGrammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const mediaType = z.string().regex(mediaTypePattern, 'not a valid media type (type/subtype)');

// The descriptor grammar accepts any algorithm; a registered one (sha256, sha512) must also be valid
// for that algorithm (lower-case hex of the right length), as go-digest checks.
const digest = z
  .string()
  .regex(digestGrammar, 'not a valid digest (algorithm:encoded)')
  .superRefine((value, ctx) => {
    const algorithm = value.slice(0, value.indexOf(':'));
    if (!registeredAlgorithms().includes(algorithm)) return;
    try {
      parseDigest(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

const annotations = z.record(z.string(), z.string());

export const platformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

export const descriptorSchema = z.looseObject({
  mediaType,
  digest,
  size: z.number().int('must be an integer').min(0, 'must not be negative'),
  urls: z.array(z.string().refine((u) => URL.canParse(u), 'not an absolute URI')).optional(),
  annotations: annotations.optional(),
  data: z.string().regex(base64, 'not padded standard base64').optional(),
  platform: platformSchema.optional(),
  artifactType: mediaType.optional(),
});

const schemaVersion = z.literal(2, { error: 'schemaVersion must be 2' });

export const manifestSchema = z.looseObject({
  schemaVersion,
  mediaType: z
    .string()
    .refine(
      (t) => t === MediaType.ImageManifest || t === MediaType.DockerManifest,
      'not a manifest media type (an index or something else)',
    )
    .optional(),
  artifactType: mediaType.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).min(1, 'needs at least one layer'),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});

export const indexSchema = z.looseObject({
  schemaVersion,
  mediaType: z
    .string()
    .refine(
      (t) => t === MediaType.ImageIndex || t === MediaType.DockerManifestList,
      'not an index media type (a manifest or something else)',
    )
    .optional(),
  artifactType: mediaType.optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});

const stringSet = z.record(z.string(), z.looseObject({}));

export const configSchema = z.looseObject({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  config: z
    .looseObject({
      User: z.string().optional(),
      ExposedPorts: stringSet.nullable().optional(),
      Env: z
        .array(z.string().regex(/^[^=]+=/, 'must be NAME=VALUE'))
        .nullable()
        .optional(),
      Entrypoint: z.array(z.string()).nullable().optional(),
      Cmd: z.array(z.string()).nullable().optional(),
      Volumes: stringSet.nullable().optional(),
      WorkingDir: z.string().optional(),
      Labels: z.record(z.string(), z.string()).nullable().optional(),
      StopSignal: z.string().optional(),
      ArgsEscaped: z.boolean().optional(),
    })
    .optional(),
  rootfs: z.looseObject({ type: z.literal('layers'), diff_ids: z.array(digest) }),
  history: z
    .array(
      z.looseObject({
        created: z.string().optional(),
        created_by: z.string().optional(),
        author: z.string().optional(),
        comment: z.string().optional(),
        empty_layer: z.boolean().optional(),
      }),
    )
    .optional(),
});

export const layoutSchema = z.looseObject({
  imageLayoutVersion: z.string(),
});
