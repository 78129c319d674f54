/**
 * Writes docs/configuration.md, the reference of every environment variable the game server reads,
 * from contract/env.ts (names, types, ranges, defaults, descriptions). A unit test fails when the
 * file is stale; `npm run gen` rewrites it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV, type EnvKey, type EnvKind, type EnvSpec } from '../../contract/env.ts';
import { FORMATS } from '../../contract/formats.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const CONFIGURATION_DOC_PATH = join(PROJECT_ROOT, 'docs', 'configuration.md');

function typeOf(kind: EnvKind): string {
  switch (kind.type) {
    case 'int':
      return `integer ${kind.min}–${kind.max}`;
    case 'number':
      return `number ${kind.min}–${kind.max}`;
    case 'bool':
      return '`true` or `false`';
    case 'string':
      if (kind.format) return `string: ${FORMATS[kind.format].expected}`;
      return kind.minLength === undefined ? 'string' : `string of at least ${kind.minLength} characters`;
    case 'url':
      return kind.format ? `URL: ${FORMATS[kind.format].expected}` : `URL (${kind.protocols.map((p) => `\`${p}//\``).join(', ')})`;
    case 'enum':
      return kind.values.map((v) => `\`${v}\``).join(', ');
  }
}

/** The sentence a `requiredWhenSet` rule adds to the meaning. */
function required(spec: EnvSpec): string {
  const rule = spec.requiredWhenSet;
  if (!rule) return '';
  const names = rule.keys.map((k) => `\`${ENV[k as EnvKey].name}\``).join(' or ');
  return ` Required when ${names} is set: ${rule.because}.`;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Text of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const specs: EnvSpec[] = Object.values(ENV);
  const rows = specs.map((s) =>
    `| \`${s.name}\` | ${cell(typeOf(s.kind))} | ${s.default === undefined ? '(unset)' : `\`${cell(s.default)}\``} | ${s.secret ? 'yes' : ''} | ${(s.chartValues ?? []).map((v) => `\`${v}\``).join(', ')} | ${cell(s.description)}${required(s)} |`,
  );
  return [
    '# Game server configuration',
    '',
    '<!-- Generated from contract/env.ts by `npm run gen` (scripts/gen/configuration-doc.ts); do not edit. -->',
    '',
    'The server reads only these environment variables and validates them before it starts: a bad',
    'value stops it with one line on stderr that names the variable, what was expected and what was',
    'given (exit code 2). With none set, `npm start` runs everything in one process: embedded',
    'PostgreSQL (PGlite) in `MMO_DATA_DIR`, in-process presence and bus.',
    '',
    'Setting `REDIS_URL` or `AMQP_URL` makes the process *clustered*: it shares sessions, online counts,',
    'zone ownership, chat and transfers with its peers, and then `MMO_AUTH_SECRET` is required. With',
    '`DATABASE_URL` set the schema must be migrated first (`npm run migrate`, the chart\'s migration',
    'Job). The chart sets these variables from its values (docs/values.md); "secret" ones come from a',
    'Kubernetes Secret. The chart refuses a value of the "chart value" column that this table\'s type',
    'refuses, before anything is installed. See docs/scale-out.md for how they combine in a cluster.',
    '',
    '| variable | type | default | secret | chart value | meaning |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.main) {
  await writeFile(CONFIGURATION_DOC_PATH, renderConfigurationDoc());
  process.stdout.write(`wrote ${CONFIGURATION_DOC_PATH}\n`);
}
