import { describe, expect, it } from 'vitest';
import { runInPty } from './pty.ts';

describe('runInPty', () => {
  it('gives the program a terminal of the size asked, types after what it waits for, and resizes', () => {
    const r = runInPty(
      [
        'sh',
        '-c',
        'test -t 0 && echo "ready $(stty size)"; read x; echo "got $x"; read y; echo "now $(stty size)"; exit 3',
      ],
      [
        { after: 'ready 12 34', send: 'hi\n' },
        { after: 'got hi', resize: [40, 100], send: '\n' },
      ],
      { size: [12, 34] },
    );
    expect(r.output).toContain('ready 12 34');
    expect(r.output).toContain('got hi');
    expect(r.output).toContain('now 40 100');
    expect(r.status).toBe(3);
  });
});
