// Which stages a build runs: the target and what it needs, through FROM of an earlier stage,
// COPY --from and RUN --mount=from= — in dependency order, a cycle being a typed error. Global ARGs
// (before the first FROM) expand FROM lines and `--from` names.
import { InvalidArgumentError, truncate } from '@ocikit/errors';
import type { Dockerfile, Stage } from './ast.ts';
import { unmet } from './errors.ts';
import { expand } from './expand.ts';

/** The values of the global ARGs, build args winning over defaults. */
export function globalArgValues(
  file: Dockerfile,
  buildArgs: Readonly<Record<string, string>>,
): Map<string, string | undefined> {
  const values = new Map<string, string | undefined>();
  for (const inst of file.globalArgs) {
    for (const p of inst.pairs) {
      const vars = new Map([...values].filter((e): e is [string, string] => e[1] !== undefined));
      const given = Object.hasOwn(buildArgs, p.key) ? buildArgs[p.key] : undefined;
      values.set(
        p.key,
        given ?? (p.value === undefined ? undefined : expand(p.value, vars, { escape: file.escape })),
      );
    }
  }
  return values;
}

/** Expands a FROM image or a `--from` name with the global ARGs. */
export function expandGlobal(
  file: Dockerfile,
  globals: ReadonlyMap<string, string | undefined>,
  word: string,
): string {
  const vars = new Map([...globals].filter((e): e is [string, string] => e[1] !== undefined));
  return expand(word, vars, { escape: file.escape });
}

/** The stage a name refers to from `stage` (a stage name defined anywhere, or an index), if any. */
export function stageNamed(file: Dockerfile, name: string): Stage | undefined {
  const lower = name.toLowerCase();
  const byName = file.stages.find((s) => s.from.alias === lower);
  if (byName) return byName;
  if (/^\d+$/.test(name)) return file.stages[Number(name)];
  return undefined;
}

/** The stage FROM refers to: a stage named before it (FROM never reaches forward), or none (an image). */
export function baseStage(file: Dockerfile, stage: Stage, image: string): Stage | undefined {
  const lower = image.toLowerCase();
  return file.stages.find((s) => s.index < stage.index && s.from.alias === lower);
}

/** The stages `stage` depends on. */
function dependencies(
  file: Dockerfile,
  stage: Stage,
  globals: ReadonlyMap<string, string | undefined>,
): Stage[] {
  const out: Stage[] = [];
  const base = baseStage(file, stage, expandGlobal(file, globals, stage.from.image));
  if (base) out.push(base);
  for (const inst of stage.instructions) {
    if (inst.kind !== 'COPY' && inst.kind !== 'RUN') continue;
    for (const f of inst.flags) {
      if (f.value === true) continue;
      let from: string | undefined;
      if (inst.kind === 'COPY' && f.name === 'from') from = f.value;
      if (inst.kind === 'RUN' && f.name === 'mount') from = /(?:^|,)from=([^,]+)/.exec(f.value)?.[1];
      if (from === undefined) continue;
      const dep = stageNamed(file, expandGlobal(file, globals, from));
      if (dep) out.push(dep);
    }
  }
  return out;
}

/** The target stage: by name (`AS name`) or index; the last stage by default. */
export function targetStage(file: Dockerfile, target: string | undefined): Stage {
  if (target === undefined || target === '') {
    const last = file.stages.at(-1);
    if (!last)
      throw new InvalidArgumentError('the Dockerfile has no FROM', {
        details: { reason: 'bad-instruction' },
      });
    return last;
  }
  const stage = stageNamed(file, target);
  if (!stage) {
    const names = file.stages.map((s) => s.from.alias).filter(Boolean);
    throw new InvalidArgumentError(`target stage ${JSON.stringify(truncate(target, 80))} not found`, {
      details: { reason: 'stage-not-found', target: truncate(target, 120) },
      hint: names.length
        ? `the stages are named: ${names.join(', ')}`
        : 'no stage has a name (FROM … AS name)',
    });
  }
  return stage;
}

/**
 * The stages to build for `target`, each after the stages it needs; stages it does not need are
 * left out. A cycle (`COPY --from` both ways) is FailedPrecondition `stage-cycle`.
 */
export function planStages(
  file: Dockerfile,
  target: Stage,
  globals: ReadonlyMap<string, string | undefined>,
): Stage[] {
  const order: Stage[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (stage: Stage, path: Stage[]) => {
    const seen = state.get(stage.index);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...path.slice(path.indexOf(stage)), stage].map((s) => s.from.alias ?? String(s.index));
      throw unmet('stage-cycle', `the stages depend on each other in a cycle: ${cycle.join(' → ')}`);
    }
    state.set(stage.index, 'visiting');
    for (const dep of dependencies(file, stage, globals)) visit(dep, [...path, stage]);
    state.set(stage.index, 'done');
    order.push(stage);
  };
  visit(target, []);
  return order;
}
