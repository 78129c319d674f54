// `null` anywhere in the values: helm's own schema check refuses it and names the key, or null is one
// of the key's documented values and the chart renders. Never a template panic ("nil pointer
// evaluating …"). Every key of values.yaml is swept, a few renders per helm major: a schema check
// reports every broken key at once, and keys that nest cannot be null together, so one render per depth.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { schemaAt, type Schema } from '../../scripts/gen/values-doc.ts';
import { valuesSchema } from '../../scripts/gen/values-schema.ts';
import { CHART_DIR, templateRaw } from '../support/chart.ts';
import { schemaErrorPaths } from '../support/problems.ts';

const majors: HelmMajor[] = [3, 4];

interface Key {
  path: string[];
  /** An object the chart defines (its keys are swept too), not a value of its own. */
  section: boolean;
  /** null is one of its documented values. */
  nullable: boolean;
}

let keys: Key[] = [];

beforeAll(async () => {
  const defaults = parse(await readFile(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const schema = valuesSchema() as Schema;
  const visit = (value: Record<string, unknown>, prefix: string[]) => {
    for (const [k, v] of Object.entries(value)) {
      const path = [...prefix, k];
      const s = schemaAt(schema, path)!;
      const section = Boolean(s.properties) && v !== null && typeof v === 'object' && !Array.isArray(v);
      const type = s.type;
      keys.push({ path, section, nullable: Array.isArray(type) && type.includes('null') });
      if (section) visit(v as Record<string, unknown>, path);
    }
  };
  visit(defaults, []);
});

function nulled(paths: string[][]): object {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let at = out;
    for (const seg of path.slice(0, -1)) at = (at[seg] ??= {}) as Record<string, unknown>;
    at[path.at(-1)!] = null;
  }
  return out;
}

describe.each(majors)('helm %i and null values', (major) => {
  it('sweeps every key of values.yaml', () => {
    expect(keys.length).toBeGreaterThan(150);
    expect(keys.filter((k) => k.nullable).map((k) => k.path.join('.'))).toEqual([
      'gameServer.replicas',
      'gameServer.autoscaling.minReplicas',
      'gameServer.autoscaling.maxReplicas',
      'gameServer.pdb.minAvailable',
      'service.nodePort',
      'mesh.istio.canaryWeight',
    ]);
  });

  it('refuses null for every value that has no null meaning, naming each key', async () => {
    const leaves = keys.filter((k) => !k.section && !k.nullable).map((k) => k.path);
    const res = await templateRaw(inject('helmPaths')[major], { values: [nulled(leaves)] });
    expect(res.code).not.toBe(0);
    const named = schemaErrorPaths(res.stderr);
    expect(leaves.map((p) => p.join('.')).filter((p) => !new RegExp(`(^|[\\s'])${p.replaceAll('.', '\\.')}([\\s:']|$)`, 'm').test(named))).toEqual([]);
  });

  it('refuses a null section at every depth, naming each one', async () => {
    const sections = keys.filter((k) => k.section);
    const depths = [...new Set(sections.map((k) => k.path.length))];
    expect(depths.length).toBeGreaterThanOrEqual(3);
    for (const depth of depths) {
      const paths = sections.filter((k) => k.path.length === depth).map((k) => k.path);
      const res = await templateRaw(inject('helmPaths')[major], { values: [nulled(paths)] });
      expect(res.code, `depth ${depth}`).not.toBe(0);
      expect(res.stderr).not.toMatch(/nil pointer/);
      const named = schemaErrorPaths(res.stderr);
      expect(paths.map((p) => p.join('.')).filter((p) => !new RegExp(`(^|[\\s'])${p.replaceAll('.', '\\.')}([\\s:']|$)`, 'm').test(named)), `depth ${depth}`).toEqual([]);
    }
  });

  it('renders with null wherever null is documented (derived from capacity, or chosen by Kubernetes)', async () => {
    const res = await templateRaw(inject('helmPaths')[major], { values: [nulled(keys.filter((k) => k.nullable).map((k) => k.path))] });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
});
