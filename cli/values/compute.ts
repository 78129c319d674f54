/**
 * The values a release would get, computed by helm itself: chart defaults, then the files, then the
 * `--set`s, with helm's rules (a `null` removes a default, `--set` type inference, list syntax).
 * Helm renders a throwaway chart with the same Chart.yaml and values.yaml whose only template prints
 * `.Values`; it has no schema and no templates of the real chart, so it answers even for values the
 * real chart refuses — which is what validation needs to report every problem.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChartRequest, Helm } from '../helm/helm.ts';

export type Values = Record<string, unknown>;

const DUMP_TEMPLATE = 'templates/values.json';

/** The merged values of `req`; rejects with helm's message when an input cannot be merged (a malformed --set). */
export async function computeValues(helm: Pick<Helm, 'template'>, req: ChartRequest): Promise<Values> {
  const dir = await mkdtemp(join(tmpdir(), 'mmoctl-values-'));
  try {
    const chart = join(dir, 'chart');
    await mkdir(join(chart, 'templates'), { recursive: true });
    await Promise.all([
      copyFile(join(req.chart.dir, 'Chart.yaml'), join(chart, 'Chart.yaml')),
      copyFile(join(req.chart.dir, 'values.yaml'), join(chart, 'values.yaml')),
      writeFile(join(chart, DUMP_TEMPLATE), '{{ toJson .Values }}\n'),
    ]);
    const out = await helm.template({ release: 'values', namespace: 'values' }, { ...req, chart: { ...req.chart, ref: chart, version: undefined } }, { showOnly: [DUMP_TEMPLATE], kubeVersion: 'v1.99.0' });
    return JSON.parse(out.slice(out.indexOf('{'))) as Values;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The value at a dotted path (`a.b[0].c`, `\.` escapes), or undefined. */
export function valueAt(values: unknown, key: string): unknown {
  let cur: unknown = values;
  for (const seg of splitKey(key)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = typeof seg === 'number' ? (cur as unknown[])[seg] : (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** `a.b\.c[0]` → ['a', 'b.c', 0]. */
export function splitKey(key: string): (string | number)[] {
  const out: (string | number)[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === '\\' && i + 1 < key.length) cur += key[++i];
    else if (c === '.') {
      if (cur) out.push(cur);
      cur = '';
    } else if (c === '[') {
      if (cur) out.push(cur);
      cur = '';
      const end = key.indexOf(']', i);
      out.push(Number(key.slice(i + 1, end)));
      i = end;
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}
