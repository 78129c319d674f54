/**
 * `mmoctl init`: a values file to start from — the chosen preset in full plus the settings studios
 * change most, each with the chart's own description as a comment. The text is a Handlebars template
 * (cli/templates/values.yaml.hbs); the YAML and its comments are written by the yaml library.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isMap, isScalar, parse, type Pair, type YAMLMap } from 'yaml';
import { CHART_DIR, CLI_VERSION, PACKAGE_ROOT, presetPath, readChartMeta, type Profile } from './package.ts';
import { valueDescriptions } from './values/docs.ts';
import { childKey } from './values/inputs.ts';
import { splitKey } from './values/compute.ts';

type Tree = Record<string, unknown>;

/** The settings shown in every generated file, by section, in addition to whatever the preset sets. */
export const INIT_SECTIONS: readonly { readonly title: string; readonly keys: readonly string[] }[] = [
  { title: 'Game server image', keys: ['image.repository', 'image.tag', 'imagePullSecrets'] },
  { title: 'Capacity', keys: ['capacity.playersPerPod', 'capacity.targetPlayers', 'capacity.spareReplicas'] },
  { title: 'Game servers', keys: ['gameServer.resources', 'gameServer.autoscaling.enabled', 'gameServer.autoscaling.minReplicas', 'gameServer.autoscaling.maxReplicas', 'gameServer.config.tickRate', 'gameServer.config.zoneCount'] },
  { title: 'How players connect', keys: ['service.type', 'ingress.enabled', 'ingress.hosts', 'udp.mode', 'udp.nodePort', 'udp.announce.addressTypes'] },
  { title: 'Data services', keys: ['postgres.enabled', 'postgres.persistence.size', 'redis.enabled', 'redis.persistence.size', 'rabbitmq.enabled', 'rabbitmq.persistence.size'] },
  { title: 'Monitoring', keys: ['monitoring.serviceMonitor.enabled', 'monitoring.prometheusRule.enabled', 'monitoring.dashboard.enabled'] },
];

export interface InitFile {
  readonly text: string;
  /** Every key the file sets. */
  readonly keys: readonly string[];
}

/** The text of the values file for `profile`. */
export async function renderInitFile(profile: Profile, file: string): Promise<InitFile> {
  const valuesYaml = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
  const defaults = (parse(valuesYaml) ?? {}) as Tree;
  const preset = (parse(readFileSync(presetPath(profile), 'utf8')) ?? {}) as Tree;
  const merged = deepMerge(defaults, preset);
  const docs = valueDescriptions(valuesYaml);
  // Every top-level key lives in one section (YAML keys are unique): the preset's other settings join
  // the section that shows their top-level key, or a last section of their own.
  const sections = INIT_SECTIONS.map((s) => ({ title: s.title, keys: [...s.keys] }));
  const other = { title: `Other settings of the ${profile} preset`, keys: [] as string[] };
  for (const key of leaves(preset, docs)) {
    if (sections.some((s) => s.keys.some((k) => key === k || key.startsWith(`${k}.`)))) continue;
    const top = splitKey(key)[0];
    (sections.find((s) => s.keys.some((k) => splitKey(k)[0] === top)) ?? other).keys.push(key);
  }
  if (other.keys.length) sections.push(other);
  const keys: string[] = [];
  const rendered = sections.map((s) => {
    keys.push(...s.keys);
    return { title: s.title, rule: '-'.repeat(Math.max(4, 96 - s.title.length)), body: yamlWithComments(pick(merged, s.keys), docs) };
  });
  const { default: Handlebars } = await import('handlebars');
  const template = Handlebars.compile(readFileSync(join(PACKAGE_ROOT, 'cli', 'templates', 'values.yaml.hbs'), 'utf8'), { noEscape: true });
  const chart = readChartMeta(CHART_DIR);
  return { text: template({ profile, file, mmoctl: CLI_VERSION, chart: `${chart.name} ${chart.version}`, sections: rendered }), keys };
}

function deepMerge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isTree(prev) && isTree(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaf keys of a tree, stopping at maps the chart documents as one value. */
function leaves(t: Tree, docs: ReadonlyMap<string, string>, prefix = ''): string[] {
  return Object.entries(t).flatMap(([k, v]) => {
    const key = childKey(prefix, k);
    return isTree(v) && !docs.has(key) && Object.keys(v).length ? leaves(v, docs, key) : [key];
  });
}

/** The sub-tree holding only `keys` (dotted paths) of `t`. */
function pick(t: Tree, keys: readonly string[]): Tree {
  const out: Tree = {};
  for (const key of keys) {
    const path = splitKey(key) as string[];
    let src: unknown = t;
    for (const seg of path) src = isTree(src) ? src[seg] : undefined;
    // A null in a values file deletes the chart's default instead of repeating it: leave it out.
    if (src === undefined || src === null) continue;
    let dst = out;
    path.slice(0, -1).forEach((seg) => {
      dst = (dst[seg] ??= {}) as Tree;
    });
    dst[path.at(-1)!] = src;
  }
  return out;
}

/** YAML of `t` with the chart's description above every documented key. */
function yamlWithComments(t: Tree, docs: ReadonlyMap<string, string>): string {
  const doc = new Document(t);
  const visit = (map: YAMLMap, prefix: string) => {
    for (const pair of map.items as Pair[]) {
      const key = childKey(prefix, String(isScalar(pair.key) ? pair.key.value : pair.key));
      const description = docs.get(key);
      if (description && isScalar(pair.key)) pair.key.commentBefore = wrap(description).map((l) => ` ${l}`).join('\n');
      if (isMap(pair.value)) visit(pair.value, key);
    }
  };
  if (isMap(doc.contents)) visit(doc.contents, '');
  return doc.toString({ lineWidth: 0 }).trimEnd();
}

function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
