import { isInvalidArgument } from '@ocikit/errors';
import { describe, expect, it } from 'vitest';
import type { Context } from './command.ts';
import { alignTabs, goTime, humanSize, parseTemplate, printFormatted } from './format.ts';

describe('humanSize (docker/go-units HumanSizeWithPrecision, 3)', () => {
  it('uses three significant digits and SI units, as Go %g', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(12)).toBe('12B');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(1000)).toBe('1kB');
    expect(humanSize(1234)).toBe('1.23kB');
    // go-units' HumanSize (precision 4), as podman's system df prints
    expect(humanSize(15_345, 4)).toBe('15.35kB');
    expect(humanSize(12_345, 4)).toBe('12.35kB');
    expect(humanSize(0, 4)).toBe('0B');
    expect(humanSize(4_260_000)).toBe('4.26MB');
    expect(humanSize(49_900_000)).toBe('49.9MB');
    expect(humanSize(999_999)).toBe('1e+03kB');
    expect(humanSize(1_500_000_000)).toBe('1.5GB');
  });
});

describe('goTime', () => {
  it("prints Go's time.Time form, in UTC", () => {
    expect(goTime('2026-12-05T15:12:55.990Z')).toBe('2026-12-05 15:12:55 +0000 UTC');
  });
});

describe('parseTemplate', () => {
  const item = {
    ID: 'abc123',
    Names: 'web',
    Count: 3,
    Up: true,
    Nothing: null,
    Args: ['sh', '-c', 'echo hi'],
    Labels: new Map([
      ['b', '2'],
      ['a', '1'],
    ]),
    Config: { Env: ['A=1', 'B=2'], User: 'root', Labels: new Map([['x', 'y']]) },
    Label: (name: unknown) => (name === 'a' ? '1' : ''),
  };
  const run = (t: string) => parseTemplate(t).execute(item);

  it('prints text and fields, nested fields, and . itself', () => {
    expect(run('{{.ID}}')).toBe('abc123');
    expect(run('id={{ .ID }} name={{.Names}}')).toBe('id=abc123 name=web');
    expect(run('{{.Config.User}}')).toBe('root');
    expect(run('{{.Count}} {{.Up}} {{.Nothing}}')).toBe('3 true <nil>');
    expect(run('{{.Args}}')).toBe('[sh -c echo hi]');
    expect(run('{{.Labels}}')).toBe('map[a:1 b:2]');
    expect(parseTemplate('{{.}}').execute('plain')).toBe('plain');
  });

  it('turns the two characters \\t and \\n into tab and newline, as docker does', () => {
    expect(run('{{.ID}}\\t{{.Names}}\\n')).toBe('abc123\tweb\n');
  });

  it('reads map keys as fields; a missing key is <no value>', () => {
    expect(run('{{.Labels.a}}')).toBe('1');
    expect(run('{{.Labels.zzz}}')).toBe('<no value>');
    expect(run('{{.Config.Labels.x}}')).toBe('y');
  });

  it('runs json, join, index, len, upper, lower, title, truncate, split', () => {
    expect(run('{{json .Config}}')).toBe('{"Env":["A=1","B=2"],"User":"root","Labels":{"x":"y"}}');
    expect(run('{{json .Labels}}')).toBe('{"a":"1","b":"2"}');
    expect(run('{{json .Names}}')).toBe('"web"');
    expect(JSON.parse(run('{{json .}}'))).toMatchObject({ ID: 'abc123', Nothing: null, Labels: { a: '1' } });
    expect(run('{{json .}}')).not.toContain('Label"');
    expect(run('{{join .Config.Env ","}}')).toBe('A=1,B=2');
    expect(run('{{index .Labels "b"}} {{index .Args 1}}')).toBe('2 -c');
    expect(run('{{len .Args}} {{len .Labels}} {{len .Names}}')).toBe('3 2 3');
    expect(run('{{upper .Names}} {{lower "AbC"}} {{title "hello big world"}}')).toBe(
      'WEB abc Hello Big World',
    );
    expect(run('{{truncate .ID 3}}')).toBe('abc');
    expect(run('{{split "a:b" ":"}}')).toBe('[a b]');
  });

  it('pipes a value into the last argument, and evaluates parentheses', () => {
    expect(run('{{.Names | upper}}')).toBe('WEB');
    expect(run('{{.Config.Env | len}}')).toBe('2');
    // as in Go: the piped value is the last argument, so join gets ";" as its list
    expect(() => run('{{.Config.Env | join ";"}}')).toThrow(/join: string is not a list/);
    expect(run('{{.Labels | json}}')).toBe('{"a":"1","b":"2"}');
    expect(run('{{(index .Args 2) | upper}}')).toBe('ECHO HI');
    expect(run('{{len (split "a:b:c" ":")}}')).toBe('3');
    const nested = parseTemplate('{{(index .List 0).Name}}').execute({ List: [{ Name: 'first' }] });
    expect(nested).toBe('first');
  });

  it('calls methods with their arguments', () => {
    expect(run('{{.Label "a"}}|{{.Label "zzz"}}')).toBe('1|');
  });

  it('trims around {{- and -}} and drops comments', () => {
    expect(run('a  {{- .ID -}}  b')).toBe('aabc123b');
    expect(run('a{{/* a comment */}}b')).toBe('ab');
    expect(run('{{"}}"}}')).toBe('}}');
    expect(run('{{`raw \\n`}}')).toBe('raw \n'); // the \n became a newline before parsing, as in docker
  });

  it('lists the fields it reads from the item, for checking before anything runs', () => {
    expect(parseTemplate('{{.ID}} {{json .Config.Env}} {{(index .Labels "a")}} {{.}}').fields).toEqual([
      'ID',
      'Config',
      'Labels',
    ]);
  });

  it('names an unknown field, with the fields there are', () => {
    const t = parseTemplate('{{.Nope}}');
    expect(() => t.execute(item)).toThrow(/can't evaluate field Nope/);
    try {
      t.execute(item);
    } catch (e) {
      expect(isInvalidArgument(e)).toBe(true);
      expect((e as { hint?: string }).hint).toContain('Names');
    }
    expect(() => run('{{.Config.Nope}}')).toThrow(/can't evaluate field Nope in \.Config\.Nope/);
    expect(() => run('{{.Nothing.Deeper}}')).toThrow(/it is nil/);
  });

  it('refuses what it does not implement, and broken templates, with typed errors', () => {
    for (const bad of [
      '{{if .ID}}x{{end}}',
      '{{range .Args}}{{.}}{{end}}',
      '{{with .Config}}{{.User}}{{end}}',
      '{{$x := .ID}}',
      '{{printf "%s" .ID}}',
      '{{.ID',
      '{{(.ID}}',
      '{{}}',
      '{{.ID .Names}}',
      '{{json}}',
      '{{json .ID .Names}}',
      '{{truncate .ID "x"}}',
      '{{index .Labels 1}}',
      '{{"unterminated}}',
    ]) {
      let error: unknown;
      try {
        run(bad);
      } catch (e) {
        error = e;
      }
      expect(isInvalidArgument(error), bad).toBe(true);
    }
  });
});

describe('alignTabs', () => {
  it("pads every cell but a line's last to its column's width + 3, at least 10 (Go's tabwriter as docker sets it)", () => {
    expect(alignTabs(['CONTAINER ID\tNAMES', 'abc\tweb'])).toEqual([
      'CONTAINER ID   NAMES',
      'abc            web',
    ]);
    expect(alignTabs(['A\tB\tC', 'a\tb\tc'])).toEqual(['A         B         C', 'a         b         c']);
  });
});

describe('printFormatted', () => {
  const items = [
    { ID: 'abc', Names: 'web', Label: () => 'v' },
    { ID: 'defghi', Names: 'db', Label: () => 'w' },
  ];
  const fields = {
    headers: { ID: 'CONTAINER ID', Names: 'NAMES', Label: 'LABEL' },
    methods: ['Label'],
  };
  function print(format: string, list: readonly object[] = items): string {
    let out = '';
    const write = (c: string) => {
      out += c;
      return true;
    };
    const ctx = { stdout: { write } } as unknown as Context;
    printFormatted(ctx, format, list, fields, () => {
      out += 'DEFAULT\n';
    });
    return out;
  }

  it('prints one line per item', () => {
    expect(print('{{.ID}}:{{.Names}}')).toBe('abc:web\ndefghi:db\n');
  });

  it('prints a table with headers, also when there are no items', () => {
    expect(print('table {{.ID}}\\t{{.Names}}\\t{{.Label "x"}}')).toBe(
      'CONTAINER ID   NAMES     LABEL\nabc            web       v\ndefghi         db        w\n',
    );
    expect(print('table {{.ID}}\\t{{.Names}}', [])).toBe('CONTAINER ID   NAMES\n');
    expect(print('table')).toBe('DEFAULT\n');
  });

  it('takes json as {{json .}}', () => {
    expect(print('json')).toBe('{"ID":"abc","Names":"web"}\n{"ID":"defghi","Names":"db"}\n');
  });

  it('fails on a field the items do not have before printing anything, also with no items', () => {
    expect(() => print('{{.ID}} {{.Status}}', [])).toThrow(/no field \.Status/);
    expect(() => print('table {{.Bogus}}')).toThrow(/no field \.Bogus/);
  });
});
