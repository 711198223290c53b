// images.history (`GET /images/{name}/history`) and containers.commit (`POST /commit`) over the
// Docker API, which Podman's compatible API answers alike.
import { parseReference } from '@ocikit/reference';
import type { Handlers, HistoryEntry } from '../contract.ts';
import type { EngineHttp, HttpRequest } from './http.ts';
import { fromUnix, isObj, type Json, num, obj, str, strings } from './json.ts';

type HistoryCommitHandlers = Pick<Handlers, 'images.history' | 'containers.commit'>;

/** One entry of the API's history answer (`Id`, `Created` in Unix seconds, `CreatedBy`, `Tags`, `Size`, `Comment`). */
export function historyEntryOf(v: Json): HistoryEntry {
  const id = str(v, 'Id');
  const created = num(v, 'Created');
  const comment = str(v, 'Comment');
  const tags = strings(v, 'Tags').filter((t) => t !== '<none>:<none>');
  const size = num(v, 'Size') ?? 0;
  const createdBy = str(v, 'CreatedBy') ?? '';
  return {
    // `<missing>` (Docker) or an empty id: not known
    ...(id !== undefined && id !== '' && id !== '<missing>'
      ? { id: /^[0-9a-f]{64}$/.test(id) ? `sha256:${id}` : id }
      : {}),
    ...(created !== undefined && created > 0 ? { created: fromUnix(created) } : {}),
    createdBy,
    size,
    ...(comment !== undefined && comment !== '' ? { comment } : {}),
    // the API has no such field: a step that made no layer shows size 0 and a `#(nop)` instruction
    emptyLayer: size === 0 && /#\(nop\)/.test(createdBy),
    ...(tags.length > 0 ? { tags } : {}),
  };
}

/** The history and commit handlers of a Docker-API engine under the API prefix `prefix`. */
export function historyCommitHandlers(http: EngineHttp, prefix: string): HistoryCommitHandlers {
  return {
    async 'images.history'(ref, { signal }) {
      const req: HttpRequest = {
        method: 'GET',
        path: `${prefix}/images/${encodeURIComponent(ref)}/history`,
        signal,
        operation: 'images.history',
        subject: 'image',
        target: ref,
      };
      const v = await http.json(req);
      if (!Array.isArray(v))
        throw http.fail('bad-response', req, { message: 'the history answer is not an array' });
      return v.map((e) => historyEntryOf(obj(e)));
    },

    /** Docker always writes Docker media types (`format` is not sent); podman's compatible API as its default. */
    async 'containers.commit'(id, spec, { signal }) {
      const req: HttpRequest = {
        method: 'POST',
        path: `${prefix}/commit`,
        signal,
        operation: 'containers.commit',
        subject: 'container',
        target: id,
      };
      let repo: string | undefined;
      let tag: string | undefined;
      if (spec.reference !== undefined && spec.reference !== '') {
        try {
          const parsed = parseReference(spec.reference);
          if (parsed.digest !== undefined)
            throw new Error('a digest reference cannot name a new image; give a tag');
          repo = parsed.name;
          tag = parsed.tag ?? 'latest';
        } catch (e) {
          throw http.fail('bad-argument', req, { message: (e as Error).message, cause: e });
        }
      }
      const v = await http.json({
        ...req,
        query: {
          container: id,
          repo,
          tag,
          comment: spec.comment,
          author: spec.author,
          pause: spec.pause === false ? '0' : '1',
          changes: spec.changes?.length ? spec.changes : undefined,
        },
        json: {},
      });
      if (!isObj(v)) throw http.fail('bad-response', req, { message: 'the commit answer is not an object' });
      const image = str(v, 'Id') ?? str(v, 'ID') ?? '';
      return { id: /^[0-9a-f]{64}$/.test(image) ? `sha256:${image}` : image };
    },
  };
}
