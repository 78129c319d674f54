/**
 * The descriptions a chart gives its values: the `# --` comment above a key in values.yaml (the
 * helm-docs convention). A map with its own comment is documented as one value.
 */
import { isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';

/** The description in a comment block, from its `--` line on; undefined when there is none. */
export function commentOf(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith('--'));
  if (start < 0) return undefined;
  return lines.slice(start).map((l) => l.trim().replace(/^--\s*/, '')).join(' ').trim();
}

/** A value as values.yaml documents it: a leaf, or a map with its own comment. */
export interface DocumentedValue {
  readonly path: readonly string[];
  readonly description?: string;
  readonly value: unknown;
}

/** Every value of a values.yaml in file order; a map without a comment is walked into. */
export function documentedValues(valuesYaml: string): DocumentedValue[] {
  const doc = parseDocument(valuesYaml);
  const out: DocumentedValue[] = [];
  const visit = (map: YAMLMap, path: string[]) => {
    map.items.forEach((pair, index) => {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const p = [...path, key];
      // The comment above the first key of a nested map belongs to the map node in the YAML tree.
      const before = (pair.key as { commentBefore?: string }).commentBefore ?? (index === 0 ? map.commentBefore : undefined);
      const description = commentOf(before);
      if (isMap(pair.value) && pair.value.items.length > 0 && description === undefined) visit(pair.value, p);
      else out.push({ path: p, value: (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null, ...(description === undefined ? {} : { description }) });
    });
  };
  if (isMap(doc.contents)) visit(doc.contents, []);
  return out;
}

/** Every documented key of a values.yaml, in file order, with its description. */
export function valueDescriptions(valuesYaml: string): Map<string, string> {
  return new Map(documentedValues(valuesYaml).flatMap((v) => (v.description === undefined ? [] : [[v.path.join('.'), v.description] as const])));
}
