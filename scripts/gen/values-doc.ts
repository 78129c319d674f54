/**
 * Writes docs/values.md, the reference of every chart value, from the `# --` comments in
 * charts/mmo/values.yaml (descriptions, defaults) and values.schema.json (types, allowed values,
 * ranges). The chart suite fails when the file is stale; `npm run gen` rewrites it.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { documentedValues } from '../../cli/values/docs.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const VALUES_DOC_PATH = join(PROJECT_ROOT, 'docs', 'values.md');
const CHART = join(PROJECT_ROOT, 'charts', 'mmo');

/** One documented value. */
export interface ValueRow {
  key: string;
  type: string;
  default: string;
  description: string;
  allowed: string;
  /** False when values.schema.json has no property at this path. */
  inSchema: boolean;
}

export type Schema = { type?: string | string[]; enum?: unknown[]; minimum?: number; maximum?: number; exclusiveMinimum?: number; pattern?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[] };

/** The schema at `path`, through the object branch of an anyOf. */
export function schemaAt(root: Schema, path: string[]): Schema | undefined {
  let s: Schema | undefined = root;
  for (const key of path) {
    const branch: Schema | undefined = s?.anyOf?.find((x) => x.properties?.[key]);
    s = (branch ?? s)?.properties?.[key];
  }
  return s;
}

function describeAllowed(s: Schema | undefined): string {
  if (!s) return '';
  const parts: string[] = [];
  const e = s.enum ?? s.items?.enum;
  if (e) parts.push(`one of ${e.map((x) => `\`${String(x)}\``).join(', ')}`);
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`${s.minimum}–${s.maximum}`);
  else if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  else if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  else if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  return parts.join('; ');
}

function typeOf(s: Schema | undefined, value: unknown): string {
  const t = s?.type ?? (s?.anyOf ? 'object' : undefined);
  if (t) return (Array.isArray(t) ? t : [t]).join(' or ');
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/** Rows for every documented value, in file order. A map with its own `# --` comment is one row. */
export function collectRows(): ValueRow[] {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
  return documentedValues(readFileSync(join(CHART, 'values.yaml'), 'utf8')).map(({ path, description, value }) => {
    const s = schemaAt(schema, [...path]);
    return { key: path.join('.'), type: typeOf(s, value), default: JSON.stringify(value), description: description ?? '', allowed: describeAllowed(s), inSchema: s !== undefined };
  });
}

const TEMPLATE = `# mmo chart values

<!-- Generated from charts/mmo/values.yaml and values.schema.json by \`npm run gen\`; do not edit. -->

Every value of the \`mmo\` chart. Set them with \`-f my-values.yaml\` or \`--set key=value\`; the presets in
\`values/\` (dev, staging, production) are starting points.

## How bad values are refused

Nothing renders until every value can work; \`helm install\`, \`helm template\` and \`helm lint\` refuse
alike. Unknown keys, wrong types, \`null\` where null means nothing, out-of-range numbers and text in
the wrong syntax (names, labels, CIDRs, quantities, durations, the zone list and URLs the game server
parses) are refused by \`values.schema.json\`, in helm's own words, naming the key. Rules between
values (an external host when a bundled service is off, autoscaling min ≤ max, requests ≤ limits,
node ports inside the cluster's range and never shared, a scrape timeout within its interval, zones
below the zone count…) and what the live cluster holds are checked by the chart, which reports every
broken rule at once, one line each, in a form the \`mmoctl\` CLI reads:

\`\`\`
The values are not valid (2 problems):
  - gameServer.resources.limits.cpu (1) is below gameServer.resources.requests.cpu (1500m): a container cannot request more than its limit. Fix: --set gameServer.resources.limits.cpu=1500m
  - service.nodePort (30000) is also udp.nodePort: node ports are one pool for TCP and UDP, so the API server refuses the second Service (null lets Kubernetes choose a free one). Fix: --set service.nodePort=null, or --set udp.nodePort=30001
\`\`\`

Each line starts with the key as written after \`--set\` (the one the fix changes); the fix is one or
more alternatives separated by \`, or\`, each valid as written (helm flags, or a \`kubectl\` command
followed by \`, then\` and helm flags).

## Sizing

\`capacity.playersPerPod\` (**{{perPod}}** players per pod by default: one core measured ~2,000 WebSocket or
~500 UDP players at p95 < 50 ms, see docs/benchmarks.md) and \`capacity.targetPlayers\` decide the game
server count when the replica values are left \`null\`:

- needed = ceil(targetPlayers / playersPerPod)
- \`gameServer.replicas\` and \`gameServer.autoscaling.minReplicas\` = needed + \`capacity.spareReplicas\`
- \`gameServer.autoscaling.maxReplicas\` = 2 × needed + \`capacity.spareReplicas\`

The production preset (\`values/production.yaml\`) is sized for {{prod.target}} players at {{prod.perPod}} per pod: {{prod.min}} to {{prod.max}} game server pods.

{{#each sections}}
## {{name}}

| Key | Type | Default | Description |
|---|---|---|---|
{{#each rows}}
| \`{{key}}\` | {{type}} | \`{{{default}}}\` | {{{description}}}{{#if allowed}} ({{{allowed}}}){{/if}} |
{{/each}}

{{/each}}
`;

/** Text of docs/values.md. */
export function renderValuesDoc(): string {
  const rows = collectRows().map((r) => ({ ...r, description: r.description.replaceAll('|', '\\|'), default: r.default.replaceAll('|', '\\|') }));
  const sections: { name: string; rows: ValueRow[] }[] = [];
  for (const row of rows) {
    const top = row.key.includes('.') ? row.key.split('.')[0]! : 'General';
    const last = sections.at(-1);
    if (last && last.name === top) last.rows.push(row);
    else sections.push({ name: top, rows: [row] });
  }
  const perPod = rows.find((r) => r.key === 'capacity.playersPerPod')?.default ?? '?';
  const production = parse(readFileSync(join(PROJECT_ROOT, 'values', 'production.yaml'), 'utf8')) as { capacity: { playersPerPod: number; targetPlayers: number; spareReplicas: number } };
  const { playersPerPod, targetPlayers, spareReplicas } = production.capacity;
  const needed = Math.ceil(targetPlayers / playersPerPod);
  const prod = { target: targetPlayers.toLocaleString('en-US'), perPod: playersPerPod.toLocaleString('en-US'), min: needed + spareReplicas, max: 2 * needed + spareReplicas };
  return Handlebars.compile(TEMPLATE, { noEscape: false })({ sections, perPod, prod });
}

if (import.meta.main) {
  await writeFile(VALUES_DOC_PATH, renderValuesDoc());
  process.stdout.write(`wrote ${VALUES_DOC_PATH}\n`);
}
