// Test helper: buildah 1.28 (Debian's), the daemonless peer `ocikit build` is compared with — its own
// temp --root/--runroot, the vfs storage driver and chroot isolation, base images seeded from OCI
// layouts under the names the fixtures' FROM lines use — and a reader of the images either builder
// exports to an OCI layout: the config fields that matter and each layer's file tree, entry for
// entry (path, type, mode, owner, link target, content digest; timestamps aside).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const run = promisify(execFile);

/** One entry of a layer, as compared: no timestamps. */
export interface LayerEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'whiteout' | 'opaque';
  mode: string;
  uid: number;
  gid: number;
  link?: string;
  sha256?: string;
}

/** The config fields the comparison looks at (those `docker inspect` users rely on). */
export const COMPARED_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'StopSignal',
  'Healthcheck',
] as const;

/** An image read from an OCI layout: its compared config fields, its layers' trees and diffIDs. */
export interface ReadImage {
  config: Record<string, unknown>;
  diffIds: string[];
  layers: LayerEntry[][];
  history: { created_by?: string; empty_layer?: boolean }[];
}

function cstring(b: Buffer, start: number, length: number): string {
  const s = b.subarray(start, start + length);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
}

const octal = (b: Buffer, start: number, length: number) =>
  Number.parseInt(cstring(b, start, length).trim() || '0', 8);

/** The entries of an uncompressed tar (ustar, GNU long names, PAX path/linkpath/size/uid/gid). */
export function tarEntries(tar: Buffer): LayerEntry[] {
  const out: LayerEntry[] = [];
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const flag = String.fromCharCode(h[156] ?? 48);
    const size = pax.size !== undefined ? Number(pax.size) : octal(h, 124, 12);
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'x') {
      const text = body.toString('utf8');
      let i = 0;
      while (i < text.length) {
        const sp = text.indexOf(' ', i);
        const len = Number(text.slice(i, sp));
        const record = text.slice(sp + 1, i + len - 1);
        const eq = record.indexOf('=');
        pax[record.slice(0, eq)] = record.slice(eq + 1);
        i += len;
      }
      continue;
    }
    if (flag === 'g') continue;
    if (flag === 'L') {
      longName = cstring(body, 0, body.length);
      continue;
    }
    if (flag === 'K') {
      longLink = cstring(body, 0, body.length);
      continue;
    }
    const prefix = cstring(h, 345, 155);
    const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
    const link = pax.linkpath ?? longLink ?? cstring(h, 157, 100);
    const path = rawName.replace(/^\.?\//, '').replace(/\/$/, '');
    const base = path.slice(path.lastIndexOf('/') + 1);
    const entry: LayerEntry = {
      path,
      type: 'file',
      mode: (octal(h, 100, 8) & 0o7777).toString(8).padStart(4, '0'),
      uid: pax.uid !== undefined ? Number(pax.uid) : octal(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : octal(h, 116, 8),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    if (path === '') continue; // the layer's root itself
    if (base === '.wh..wh..opq') out.push({ ...entry, type: 'opaque', mode: '', uid: 0, gid: 0 });
    else if (base.startsWith('.wh.')) out.push({ ...entry, type: 'whiteout', mode: '', uid: 0, gid: 0 });
    else if (flag === '5') out.push({ ...entry, type: 'dir' });
    else if (flag === '2') out.push({ ...entry, type: 'symlink', link });
    else if (flag === '1') out.push({ ...entry, type: 'hardlink', link: link.replace(/^\.?\//, '') });
    else if (flag === '3' || flag === '4' || flag === '6')
      out.push({ ...entry, type: flag === '3' ? 'char' : flag === '4' ? 'block' : 'fifo' });
    else out.push({ ...entry, sha256: createHash('sha256').update(body).digest('hex') });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The image `ref` of the OCI layout `layout` (its first manifest when `ref` is undefined), or of a
 * `dir:` directory as skopeo and buildah write it (`manifest.json`, blobs named by their hex digest).
 */
export function readLayoutImage(layout: string, ref?: string): ReadImage {
  const dirFormat = existsSync(join(layout, 'manifest.json'));
  const blob = (digest: string) =>
    dirFormat
      ? join(layout, digest.slice(digest.indexOf(':') + 1))
      : join(layout, 'blobs', ...digest.split(':'));
  let manifestBytes: Buffer;
  if (dirFormat) manifestBytes = readFileSync(join(layout, 'manifest.json'));
  else {
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const entry =
      ref === undefined
        ? index.manifests[0]
        : index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
    if (!entry) throw new Error(`no image ${ref} in ${layout}`);
    manifestBytes = readFileSync(blob(entry.digest));
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as {
    config?: Record<string, unknown>;
    rootfs: { diff_ids: string[] };
    history?: ReadImage['history'];
  };
  const fields: Record<string, unknown> = {};
  for (const f of COMPARED_FIELDS) {
    const v = config.config?.[f];
    // absent, null and empty are the same to a container
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object' && Object.keys(v).length === 0) continue;
    fields[f] = v;
  }
  const labels = fields.Labels as Record<string, string> | undefined;
  if (labels) {
    // buildah signs its images with its version
    const { 'io.buildah.version': _, ...rest } = labels;
    if (Object.keys(rest).length > 0) fields.Labels = rest;
    else delete fields.Labels;
  }
  const layers = manifest.layers.map((l) => {
    const bytes = readFileSync(blob(l.digest));
    return tarEntries(l.mediaType.endsWith('gzip') ? gunzipSync(bytes) : bytes);
  });
  return { config: fields, diffIds: config.rootfs.diff_ids, layers, history: config.history ?? [] };
}

/** buildah with its own state under `dir`: vfs storage, chroot isolation, no registry reached. */
export class Buildah {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    // no registries: every FROM is an image seeded here
    writeFileSync(
      join(dir, 'registries.conf'),
      'unqualified-search-registries = []\nshort-name-mode = "disabled"\n',
    );
  }

  /** The global flags: its own root and runroot, vfs. */
  get flags(): string[] {
    return [
      '--root',
      join(this.dir, 'root'),
      '--runroot',
      join(this.dir, 'runroot'),
      '--storage-driver',
      'vfs',
    ];
  }

  /** The environment buildah runs in (its registries.conf; no short-name aliases of the host's). */
  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      CONTAINERS_REGISTRIES_CONF: join(this.dir, 'registries.conf'),
      BUILDAH_ISOLATION: 'chroot',
    };
  }

  /** Runs `buildah ARGS…`; its stdout. */
  async run(args: readonly string[]): Promise<string> {
    const { stdout } = await run('buildah', [...this.flags, ...args], {
      env: this.env,
      maxBuffer: 64 << 20,
    });
    return stdout;
  }

  /** Stores the image `ref` of the OCI layout `layout` under the full name `name` (`docker.io/library/busybox:latest`). */
  async seed(layout: string, ref: string, name: string): Promise<void> {
    // skopeo names it directly (buildah pull would name it after the layout's path)
    const storage = `containers-storage:[vfs@${join(this.dir, 'root')}+${join(this.dir, 'runroot')}]${name}`;
    await run('skopeo', ['copy', '--quiet', `oci:${layout}:${ref}`, storage], { env: this.env });
  }

  /** `buildah bud --layers` of `context` (the Dockerfile `file` in it) as `tag`; `noCache` adds --no-cache. */
  async bud(
    context: string,
    tag: string,
    options: { file?: string; noCache?: boolean; extra?: string[] } = {},
  ): Promise<void> {
    await this.run([
      'bud',
      '--isolation',
      'chroot',
      '--layers',
      '--pull=never',
      '-q',
      ...(options.noCache ? ['--no-cache'] : []),
      ...(options.extra ?? []),
      '-f',
      join(context, options.file ?? 'Dockerfile'),
      '-t',
      tag,
      context,
    ]);
  }

  /** `buildah push TAG oci:OUT:REF`. */
  async pushOci(tag: string, out: string, ref: string): Promise<void> {
    await this.run(['push', '-q', tag, `oci:${out}:${ref}`]);
  }

  /**
   * `buildah push --format v2s2 TAG dir:OUT`: a Docker-format image as it is (a push to `oci:`
   * converts the config to OCI's, which has no Healthcheck).
   */
  async pushDir(tag: string, out: string): Promise<void> {
    await this.run(['push', '-q', '--format', 'v2s2', tag, `dir:${out}`]);
  }
}

/**
 * What the runtimes leave in a RUN step's layer that no instruction asked for: buildah's chroot
 * isolation bind-mounts `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf` and mounts on `/run`,
 * and leaves their empty mount points behind. Empty files and directories at these paths are
 * dropped from both builders' layers before comparing; anything with content stays compared.
 */
export const RUNTIME_MOUNT_POINTS: readonly string[] = [
  'etc/hostname',
  'etc/hosts',
  'etc/resolv.conf',
  'run',
];

/** A layer without empty runtime mount points (and parent directories left holding nothing else that were in the lower layers already). */
export function withoutMountPoints(layer: readonly LayerEntry[], lower: ReadonlySet<string>): LayerEntry[] {
  const dropped = new Set(
    layer
      .filter(
        (e) =>
          RUNTIME_MOUNT_POINTS.includes(e.path) &&
          ((e.type === 'file' && e.sha256 === createHash('sha256').digest('hex')) ||
            (e.type === 'dir' && !layer.some((o) => o.path.startsWith(`${e.path}/`)))),
      )
      .map((e) => e.path),
  );
  if (dropped.size === 0) return [...layer];
  const kept = layer.filter((e) => !dropped.has(e.path));
  // a directory of the lower layers that is in this one only as the parent of a dropped mount point
  return kept.filter(
    (e) =>
      !(
        e.type === 'dir' &&
        lower.has(e.path) &&
        [...dropped].some((d) => d.startsWith(`${e.path}/`)) &&
        !kept.some((o) => o.path.startsWith(`${e.path}/`))
      ),
  );
}

const lineOf = (e: LayerEntry) =>
  `${e.type} ${e.path}${e.mode ? ` ${e.mode}` : ''}${e.type === 'whiteout' || e.type === 'opaque' ? '' : ` ${e.uid}:${e.gid}`}${e.link !== undefined ? ` -> ${e.link}` : ''}${e.sha256 ? ` ${e.sha256.slice(0, 16)}` : ''}`;

/**
 * Each layer's entries as one line each (for readable diffs), after {@link withoutMountPoints}, and
 * without files that equal what the layers below already hold (type, mode, owner, link, content):
 * overlayfs copies a file up when a program opens it for writing (`useradd` locking `/etc/.pwd.lock`,
 * rewriting a backup with the same bytes and times), buildah's vfs diff leaves such a file out;
 * either way the image's tree is the same.
 */
export function layerLines(image: ReadImage): string[][] {
  const lower = new Set<string>();
  const merged = new Map<string, string>();
  return image.layers.map((layer) => {
    const kept = withoutMountPoints(layer, lower).filter(
      (e) => e.type === 'dir' || merged.get(e.path) !== lineOf(e),
    );
    for (const e of layer) {
      lower.add(e.path);
      const slash = e.path.lastIndexOf('/');
      const parent = slash < 0 ? '' : e.path.slice(0, slash);
      if (e.type === 'whiteout' || e.type === 'opaque') {
        const gone =
          e.type === 'opaque' ? parent : `${parent}${parent ? '/' : ''}${e.path.slice(slash + 1 + 4)}`;
        for (const p of [...merged.keys()])
          if ((e.type === 'whiteout' && p === gone) || p.startsWith(`${gone}${gone ? '/' : ''}`))
            merged.delete(p);
      }
    }
    for (const e of layer) if (e.type !== 'whiteout' && e.type !== 'opaque') merged.set(e.path, lineOf(e));
    return kept.map(lineOf);
  });
}

/** A value with object keys sorted (JSON objects are unordered; arrays keep their order). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  return v;
}

/**
 * Where `ours` differs from buildah's image `theirs`, one line each: a config field (`config Env:
 * buildah [...] ocikit [...]`), the number of layers, or a layer entry only one of them has (`layer
 * 3: buildah file srv/x 0644 1234:1234 …`). The base image's layers are the same blobs on both
 * sides; the entries of every layer are compared after {@link withoutMountPoints}.
 */
export function differences(theirs: ReadImage, ours: ReadImage): string[] {
  const out: string[] = [];
  for (const f of COMPARED_FIELDS) {
    const t = JSON.stringify(canonical(theirs.config[f]));
    const o = JSON.stringify(canonical(ours.config[f]));
    if (t !== o) out.push(`config ${f}: buildah ${t ?? 'absent'} ocikit ${o ?? 'absent'}`);
  }
  const tl = layerLines(theirs);
  const ol = layerLines(ours);
  if (tl.length !== ol.length) out.push(`layers: buildah ${tl.length} ocikit ${ol.length}`);
  for (let i = 0; i < Math.max(tl.length, ol.length); i++) {
    const t = tl[i] ?? [];
    const o = ol[i] ?? [];
    for (const line of t) if (!o.includes(line)) out.push(`layer ${i}: buildah ${line}`);
    for (const line of o) if (!t.includes(line)) out.push(`layer ${i}: ocikit ${line}`);
  }
  return out;
}
