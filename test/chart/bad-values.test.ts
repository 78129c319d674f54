// The bad-values corpus (bad-values.ts) through `helm template`: each value is refused before anything
// renders, the refusal names the key, and the fix either comes in the chart's message (every
// alternative is applied and must render) or, for helm's own schema check, is the corpus's `fixed`.
import { describe, expect, inject, it } from 'vitest';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { valuesSchema } from '../../scripts/gen/values-schema.ts';
import { templateRaw, type RenderOptions } from '../support/chart.ts';
import { keySegments, keysSetBy, parseProblems, schemaErrorPaths, type Problem } from '../support/problems.ts';
import { CLASSES, CORPUS, type BadCase } from './bad-values.ts';

const majors: HelmMajor[] = [3, 4];

const optionsOf = (c: BadCase, values: object = c.values): RenderOptions => ({
  values: [values],
  presets: c.presets ?? [],
  ...(c.apiVersions ? { apiVersions: c.apiVersions } : {}),
  ...(c.release ? { release: c.release } : {}),
});

/** A --set key as helm's schema errors print it: dots between segments, indexes as segments. */
export const schemaPath = (key: string) => keySegments(key).join('.');

type Node = { properties?: Record<string, Node>; additionalProperties?: Node | boolean; items?: Node; anyOf?: Node[] };

/** Whether a --set key names a value the schema defines (a map's own keys included). */
function inSchema(key: string): boolean {
  let nodes: (Node | undefined)[] = [valuesSchema() as Node];
  for (const seg of keySegments(key)) {
    nodes = nodes.flatMap((n) => (n?.anyOf ? n.anyOf : [n])).map((n) => {
      if (!n) return undefined;
      if (/^\d+$/.test(seg) && n.items) return n.items;
      if (n.properties?.[seg]) return n.properties[seg];
      return typeof n.additionalProperties === 'object' ? n.additionalProperties : undefined;
    });
  }
  return nodes.some(Boolean);
}

/** Fix sets to try: the first alternative of every problem, then each other alternative with the others' first. */
function fixSets(problems: Problem[]): string[][] {
  const first = problems.map((p) => p.fixes[0]!.helmArgs);
  const sets = [first.flat()];
  problems.forEach((p, i) => p.fixes.slice(1).forEach((alt) => sets.push(first.flatMap((args, j) => (j === i ? alt.helmArgs : args)))));
  return sets;
}

// The chart's messages are the same text under both majors, so their fixes are rendered once, with
// helm 4 (the schema's `fixed` values too); each major checks the refusal and the key.
describe.each(majors)('helm %i refuses bad values before rendering, naming the key', (major) => {
  const helm = () => inject('helmPaths')[major];
  const rendersFixes = major === 4;

  // helm runs are the slow part and independent: several at once (vitest's maxConcurrency).
  describe.concurrent.each(CLASSES.map((cls) => [cls, CORPUS.filter((c) => c.class === cls)] as const))('%s', (_cls, cases) => {
    it.for(cases.map((c) => [c.name, c] as const))('%s', async ([, c], { expect }) => {
      const res = await templateRaw(helm(), optionsOf(c));
      expect(res.code, 'helm template exit code').not.toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr).not.toMatch(/nil pointer|executing ".*" at <.*>: error calling (?!include)/);
      for (const text of c.mentions ?? []) expect(res.stderr).toContain(text);
      const problems = parseProblems(res.stderr);
      if (problems.length === 0) {
        // helm's own schema check: the key is named, and the values the user meant render.
        expect(schemaErrorPaths(res.stderr)).toContain(schemaPath(c.key));
        expect(c.fixed, 'a schema case names the values it meant').toBeDefined();
        if (!rendersFixes) return;
        const fixed = await templateRaw(helm(), optionsOf(c, c.fixed));
        expect(fixed.stderr).toBe('');
        expect(fixed.code).toBe(0);
        return;
      }
      expect(problems.map((p) => p.key)).toContain(c.key);
      for (const p of problems) {
        expect(inSchema(p.key), `${p.key} is a key of the values`).toBe(true);
        // The line starts with the key its first fix changes (or one above or below it).
        const changed = keysSetBy(p.fixes[0]!.helmArgs).map(schemaPath);
        if (changed.length) expect(changed.some((k) => k.startsWith(schemaPath(p.key)) || schemaPath(p.key).startsWith(k)), `${p.key} vs ${changed.join(', ')}`).toBe(true);
      }
      for (const args of rendersFixes ? fixSets(problems) : []) {
        const fixed = await templateRaw(helm(), { ...optionsOf(c), args });
        expect(fixed.stderr, `with ${args.join(' ')}`).toBe('');
        expect(fixed.code).toBe(0);
      }
    });
  });

  it('reports several broken rules in one failure', async () => {
    const res = await templateRaw(helm(), {
      values: [{ postgres: { enabled: false }, gameServer: { config: { tickRate: 10, patchRate: 20 }, pdb: { minAvailable: 5 } } }],
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/The values are not valid \(4 problems\)/);
    expect(parseProblems(res.stderr).map((p) => p.key)).toEqual(['postgres.external.host', 'postgres.external.existingSecret', 'gameServer.pdb.minAvailable', 'gameServer.config.patchRate']);
  });

  it('renders the presets that keep monitoring off where the cluster has no prometheus-operator', async () => {
    for (const presets of [[], ['dev']] as const) {
      const res = await templateRaw(helm(), { presets, apiVersions: [] });
      expect(res.code, res.stderr).toBe(0);
    }
  });
});

describe('the bad-values corpus', () => {
  it('covers every class with several cases', () => {
    for (const cls of CLASSES) expect(CORPUS.filter((c) => c.class === cls).length, cls).toBeGreaterThanOrEqual(2);
  });

  it('names each case once', () => {
    const names = CORPUS.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
