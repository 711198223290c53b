import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ArchiveWriter,
  createArchiveWriter,
  type ImageArchive,
  openArchive,
  openArchiveStream,
  type ReadOnlyTarget,
  type Target,
} from '@ocikit/content';
import { isDigest } from '@ocikit/digest';
import { InvalidArgumentError } from '@ocikit/errors';
import { formatPlatform, hostPlatform } from '@ocikit/image-spec';
import { parseReference } from '@ocikit/reference';
import { type Context, defineCommand, expectPositionals } from '../lib/command.ts';
import { parseLocation, parseTransport, type TransportLocation } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';
import {
  copyWithProgress,
  type Endpoint,
  openEndpoint,
  transferFlags,
  transferFlagsHelp,
  transportFor,
} from '../lib/registry.ts';
import {
  carryLookasideSignatures,
  loadSigningKey,
  signaturePolicyFlag,
  signaturePolicyFlagHelp,
  signInTarget,
  signWithGpg,
} from '../lib/signing.ts';

type Cleanup = () => Promise<unknown>;

/** A copy source: the target, the reference there, and the image's name when it has one. */
interface Source {
  target: ReadOnlyTarget;
  ref: string;
  kind: Endpoint['kind'];
  /** A full image name (registry, local store, archives' first name), for a destination without REF. */
  name: string | undefined;
}

const DAEMON_ARCHIVE = 'docker-daemon';

/** The full name `ref` stands for, or undefined when it is not a name (an image id). */
function nameOf(ref: string): string | undefined {
  try {
    return parseReference(ref).toString();
  } catch {
    return undefined;
  }
}

/** The name an image gets in a layout (or oci-archive) destination written without REF. */
function layoutRef(src: Source): string | undefined {
  if (src.kind === 'oci' && src.name) return src.name;
  return isDigest(src.ref) ? undefined : src.ref;
}

/** The image an archive (or a `docker save` stream) holds under `ref`, or its only one. */
async function archiveSource(ctx: Context, archive: ImageArchive, ref: string | undefined): Promise<Source> {
  const desc = await archive.resolveImage(ref, { signal: ctx.signal });
  const image = (await archive.images()).find((i) => i.descriptor.digest === desc.digest);
  return { target: archive, ref: ref ?? desc.digest, kind: 'oci', name: image?.names[0] };
}

async function openSource(
  ctx: Context,
  arg: string,
  loc: TransportLocation | undefined,
  transport: ReturnType<typeof transportFor>,
  cleanups: Cleanup[],
): Promise<Source> {
  if (loc?.kind === 'archive') {
    const archive = await openArchive(loc.file, loc.format, { signal: ctx.signal });
    cleanups.push(() => archive.close());
    return archiveSource(ctx, archive, loc.ref);
  }
  if (loc?.kind === 'daemon') {
    // the engine's `docker save` of the one image, read as a docker-archive (decision 142)
    const engine = await ctx.engine();
    const saved = engine.images.save([loc.ref], { signal: ctx.signal });
    const archive = await openArchiveStream(saved, `${DAEMON_ARCHIVE}:${loc.ref}`, 'docker-archive', {
      signal: ctx.signal,
    });
    cleanups.push(() => archive.close());
    const source = await archiveSource(ctx, archive, undefined);
    return { ...source, name: source.name ?? nameOf(loc.ref) };
  }
  const src = await openEndpoint(ctx, arg, transport, 'source');
  const ref = src.ref ?? 'latest';
  const name = src.kind === 'oci' ? undefined : src.kind === 'registry' ? src.display : src.ref;
  return { target: src.target, ref, kind: src.kind, name };
}

/** A copy destination: the target, the name to give the image there, and what finishes the copy. */
interface Destination {
  target: Target;
  ref: string | undefined;
  /** Writes the archive (and loads it into the engine) once the copy is done. */
  finish?: (root: Parameters<ArchiveWriter['include']>[0]) => Promise<string[]>;
  /** True for single-platform destinations (docker-archive, docker-daemon). */
  onePlatform: boolean;
}

async function openDestination(
  ctx: Context,
  arg: string,
  loc: TransportLocation | undefined,
  src: Source,
  transport: ReturnType<typeof transportFor>,
  cleanups: Cleanup[],
): Promise<Destination> {
  if (loc?.kind === 'archive' || loc?.kind === 'daemon') {
    const format = loc.kind === 'archive' ? loc.format : 'docker-archive';
    let file: string;
    let ref: string | undefined;
    if (loc.kind === 'archive') {
      file = loc.file;
      ref = loc.ref ?? (format === 'oci-archive' ? layoutRef(src) : src.name);
    } else {
      // fail before copying anything when the engine cannot load images
      const engine = await ctx.engine();
      if (!engine.has('images.load')) {
        const { engineError } = await import('@ocikit/engine');
        throw engineError('unimplemented', {
          engine: engine.engine,
          operation: 'images.load',
          message: `the ${engine.engine} driver does not offer images.load: "${arg}" cannot be a destination`,
        });
      }
      const dir = await mkdtemp(join(tmpdir(), 'ocikit-daemon-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      file = join(dir, 'image.tar');
      ref = loc.ref;
    }
    const writer = await createArchiveWriter(file, format, { signal: ctx.signal });
    cleanups.push(() => writer.abort());
    return {
      target: writer,
      ref,
      onePlatform: format === 'docker-archive',
      finish: async (root) => {
        if (ref === undefined) await writer.include(root, { signal: ctx.signal });
        await writer.commit({ signal: ctx.signal });
        if (loc.kind !== 'daemon') return [];
        const engine = await ctx.engine();
        return engine.images.load(createReadStream(file), { signal: ctx.signal });
      },
    };
  }
  const dst = await openEndpoint(ctx, arg, transport, 'destination');
  // a layout destination without REF keeps the source's name (as before: the digest when that is all)
  const ref = dst.ref ?? (dst.kind === 'oci' ? (layoutRef(src) ?? src.ref) : undefined);
  return { target: dst.target, ref, onePlatform: false };
}

/**
 * `ocikit copy SRC DST`: copy an image between registries, OCI layouts, the local store, image
 * archives and an engine's image store.
 */
export const copyCommand = defineCommand({
  name: 'copy',
  summary: 'Copy an image between registries, OCI layouts and the local store',
  usage: 'ocikit copy [flags] SRC DST',
  description:
    'SRC and DST are each a registry reference (optionally docker://REF), oci:DIR[:REF] (a layout; created ' +
    'when missing), local:REF (the local store), docker-archive:FILE[:REF] (docker save/load format; REF a ' +
    'tag, or @N for the Nth image), oci-archive:FILE[:REF] (an OCI layout in a tar file) or ' +
    'docker-daemon:NAME (an image in the engine --host names, saved or loaded through its API). A layout ' +
    "or archive source without REF means its only image; DST without a tag takes the source's. From a " +
    "registry, and into a docker-archive, an index is narrowed to this machine's platform unless " +
    '--platform or --all-platforms is given. Within one registry, blobs are mounted rather than copied. ' +
    'An archive destination is written whole or not at all.',
  options: {
    ...transferFlags,
    ...signaturePolicyFlag,
    'sign-by-sigstore-private-key': { type: 'string' },
    'sign-by': { type: 'string' },
    'sign-passphrase-file': { type: 'string' },
    'remove-signatures': { type: 'boolean' },
  },
  help: {
    ...transferFlagsHelp,
    ...signaturePolicyFlagHelp,
    'sign-by-sigstore-private-key':
      'sign the copied image with this cosign private key (a sigstore signature in the destination registry)',
    'sign-by':
      "sign the copied image with this GPG key (fingerprint; simple signing, stored in the registries.d lookaside), as skopeo's --sign-by",
    'sign-passphrase-file':
      "the private key's passphrase: the first line of this file (else it is asked for; a GPG key without one needs none)",
    'remove-signatures': "do not copy the source's sigstore signatures to the destination registry",
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(copyCommand, positionals, 2);
    const [srcArg, dstArg] = (positionals as string[]).map((a) => a.replace(/^docker:\/\//, ''));
    const transport = transportFor(ctx, values);
    const cleanups: Cleanup[] = [];
    try {
      const srcLoc = parseTransport(srcArg ?? '');
      const dstLoc = parseTransport(dstArg ?? '');
      const dstIsRegistry = dstLoc === undefined && parseLocation(dstArg ?? '').kind === 'registry';
      const signBy = values['sign-by-sigstore-private-key'];
      if (signBy !== undefined && !dstIsRegistry)
        throw new InvalidArgumentError(
          'ocikit copy: --sign-by-sigstore-private-key needs a registry destination',
        );
      const gpgKey = values['sign-by'];
      if (gpgKey !== undefined && !dstIsRegistry)
        throw new InvalidArgumentError('ocikit copy: --sign-by needs a registry destination');
      // the key first: a wrong passphrase fails before anything is copied
      const key =
        signBy === undefined
          ? undefined
          : await loadSigningKey(
              ctx,
              signBy,
              '--sign-by-sigstore-private-key',
              values['sign-passphrase-file'],
              '--sign-passphrase-file',
            );
      const src = await openSource(ctx, srcArg ?? '', srcLoc, transport, cleanups);
      // the signature policy, before anything is written; then the checked digest is what is
      // copied (the source keeps its ref: a destination without one is named after it)
      let copyRef = src.ref;
      if (src.kind === 'registry' && src.name !== undefined) {
        const { checkSignaturePolicy } = await import('@ocikit/local');
        const checked = await checkSignaturePolicy(
          {
            signaturePolicy: values['signature-policy'],
            sigstoreTrustedRoot: values['sigstore-trusted-root'],
            env: ctx.env,
          },
          { target: src.target, ref: src.ref, name: src.name },
          { signal: ctx.signal },
        );
        if (checked !== undefined) copyRef = checked.digest;
      }
      const dst = await openDestination(ctx, dstArg ?? '', dstLoc, src, transport, cleanups);
      const narrow = dst.onePlatform && values.platform === undefined && !values['all-platforms'];
      const desc = await copyWithProgress(
        ctx,
        { ...src, ref: copyRef },
        { target: dst.target, ref: dst.ref },
        narrow ? { ...values, platform: formatPlatform(hostPlatform()) } : values,
        'copied',
      );
      const loaded = dst.finish ? await dst.finish(desc) : [];
      // signatures travel between registries (as skopeo copies sigstore attachments and lookaside
      // signatures) unless removed
      const dstName = dstIsRegistry ? parseReference(dstArg ?? '').toString() : '';
      if (src.kind === 'registry' && dstIsRegistry && !values['remove-signatures']) {
        const { attachCosignSignature, readCosignSignatures } = await import('@ocikit/signature');
        const signal = { signal: ctx.signal };
        for (const sig of await readCosignSignatures(src.target, desc.digest, signal))
          await attachCosignSignature(dst.target, desc.digest, sig, signal);
        if (src.name !== undefined) await carryLookasideSignatures(ctx, src.name, dstName, desc.digest);
      }
      if (gpgKey !== undefined)
        await signWithGpg(ctx, dst.target, desc, dstName, gpgKey, {
          file: values['sign-passphrase-file'],
          flag: '--sign-passphrase-file',
        });
      if (key !== undefined) await signInTarget(ctx, dst.target, desc.digest, dstName, key);
      if (ctx.json)
        printJson(ctx, {
          digest: desc.digest,
          mediaType: desc.mediaType,
          size: desc.size,
          ref: dst.ref ?? null,
          ...(dstLoc?.kind === 'daemon' ? { loaded } : {}),
        });
      else println(ctx, desc.digest);
      return 0;
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await transport.close();
    }
  },
});
