// Test helper: builds tar layers from the conformance suite's entry lists.
import { pack } from 'tar-stream';

/** One tar entry as the conformance files describe it. */
export interface FixtureEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo';
  content?: string;
  contentBytes?: number[];
  linkname?: string;
  mode?: string;
  uid?: number | string;
  gid?: number | string;
}

// Fixture ids are numbers, or "caller+N" relative to the test process's own id.
function id(value: number | string | undefined, caller = 0): number {
  if (typeof value === 'number') return value;
  const m = /^caller\+(\d+)$/.exec(value ?? '');
  return m ? caller + Number(m[1]) : 0;
}

/** The bytes of an entry's content. */
export function contentOf(e: { content?: string; contentBytes?: number[] }): Buffer {
  return e.contentBytes ? Buffer.from(e.contentBytes) : Buffer.from(e.content ?? '');
}

/** A tar archive of `entries`, in order, with names and link names exactly as given. */
export async function tarOf(entries: readonly FixtureEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const mode = e.mode ? Number.parseInt(e.mode, 8) : e.type === 'dir' ? 0o755 : 0o644;
    const common = {
      name: e.path,
      mode,
      mtime: new Date(1_700_000_000_000),
      uid: id(e.uid, process.getuid?.()),
      gid: id(e.gid, process.getgid?.()),
    };
    if (e.type === 'file') p.entry(common, contentOf(e));
    else if (e.type === 'dir') p.entry({ ...common, type: 'directory' });
    else if (e.type === 'symlink') p.entry({ ...common, type: 'symlink', linkname: e.linkname ?? '' });
    else if (e.type === 'hardlink') p.entry({ ...common, type: 'link', linkname: e.linkname ?? '' });
    else p.entry({ ...common, type: 'fifo' });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
