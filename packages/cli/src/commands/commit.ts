import { InvalidArgumentError } from '@ocikit/errors';
import { parseReference } from '@ocikit/reference';
import { defineCommand, expectPositionals } from '../lib/command.ts';
import { localStoreRef } from '../lib/location.ts';
import { printJson, println } from '../lib/output.ts';

/** `ocikit commit CONTAINER [IMAGE]`: a new image of a container's changes. */
export const commitCommand = defineCommand({
  name: 'commit',
  summary: "Make a new image of a container's changes",
  usage:
    'ocikit commit [-c INSTRUCTION]... [-m MESSAGE] [-a AUTHOR] [-p=false] [--format oci|docker] CONTAINER [IMAGE]',
  description:
    "The container's writable layer becomes a new layer on its image; the config is the one the container was made with, " +
    'then each --change, a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, ' +
    'STOPSIGNAL). A running container is frozen while its layer is read (--pause=false: not). Prints the new image id. ' +
    'The local engine keeps images by name: give IMAGE there (docker and podman make an unnamed image without it).',
  options: {
    change: { type: 'string', short: 'c', multiple: true },
    message: { type: 'string', short: 'm' },
    author: { type: 'string', short: 'a' },
    pause: { type: 'boolean', short: 'p' },
    format: { type: 'string', short: 'f' },
  },
  help: {
    change: 'a Dockerfile instruction to apply to the config (repeatable)',
    message: 'the commit message (the history comment)',
    author: 'the author (`Name <email>`)',
    pause: 'freeze the container while committing (default true; --pause=false not)',
    format: 'oci (default) or docker media types',
  },
  async run(ctx, { values, positionals }) {
    expectPositionals(commitCommand, positionals, 1, 2);
    const [container = '', image] = positionals;
    const format = values.format ?? 'oci';
    if (format !== 'oci' && format !== 'docker')
      throw new InvalidArgumentError(`ocikit commit: --format ${JSON.stringify(format)}: give oci or docker`);
    let reference: string | undefined;
    if (image !== undefined) {
      const parsed = parseReference(localStoreRef(image, 'ocikit commit:'));
      if (parsed.digest !== undefined)
        throw new InvalidArgumentError(`ocikit commit: "${image}" is a digest reference; give a tag`);
      reference = parsed.toString();
    }
    const engine = await ctx.engine();
    const { id } = await engine.containers.commit(
      container,
      {
        ...(reference !== undefined ? { reference } : {}),
        ...(values.message !== undefined ? { comment: values.message } : {}),
        ...(values.author !== undefined ? { author: values.author } : {}),
        ...(values.change?.length ? { changes: values.change } : {}),
        ...(values.pause === false ? { pause: false } : {}),
        format,
      },
      { signal: ctx.signal },
    );
    if (ctx.json) printJson(ctx, { id, ...(reference !== undefined ? { reference } : {}) });
    else println(ctx, id);
    return 0;
  },
});
