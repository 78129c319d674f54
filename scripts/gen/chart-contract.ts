/**
 * Writes charts/mmo/templates/_contract.tpl from contract/*.ts, so the chart uses the one definition of
 * ports, environment variable names, labels and metric names. The chart test suite fails when the
 * file is stale; `npm run gen` rewrites it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV } from '../../contract/env.ts';
import { FORMATS, ZONE_ITEM } from '../../contract/formats.ts';
import { KUBERNETES_SYNTAX } from '../../contract/kubernetes.ts';
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import { METRICS, RECORDED } from '../../contract/metrics.ts';
import { PATHS, PORT_NAMES, PORTS } from '../../contract/ports.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const CONTRACT_TPL_PATH = join(PROJECT_ROOT, 'charts', 'mmo', 'templates', '_contract.tpl');

/** The contract as the chart sees it: plain data, keyed like contract/*.ts. */
export function chartContract() {
  return {
    ports: PORTS,
    portNames: PORT_NAMES,
    paths: PATHS,
    env: Object.fromEntries(Object.entries(ENV).map(([key, spec]) => [key, spec.name])),
    labels: LABELS,
    components: COMPONENTS,
    metrics: Object.fromEntries(Object.entries(METRICS).map(([key, spec]) => [key, spec.name])),
    recorded: RECORDED,
    formats: { ...FORMATS, zoneItem: ZONE_ITEM },
    kubernetes: KUBERNETES_SYNTAX,
  };
}

/** Text of _contract.tpl. */
export function renderContractTpl(): string {
  const json = JSON.stringify(chartContract());
  return [
    '{{/*',
    'Generated from contract/*.ts by `npm run gen` (scripts/gen/chart-contract.ts); do not edit.',
    'Usage: {{- $c := include "mmo.contract" . | fromJson }} then $c.ports.game, $c.env.databaseUrl, …;',
    '$c.formats.zones.pattern is the pattern the server checks MMO_ZONES with (contract/formats.ts).',
    'Numbers come back as floats: wrap them in `int` where a template compares or prints them.',
    '*/}}',
    '{{- define "mmo.contract" -}}',
    json,
    '{{- end -}}',
    '',
  ].join('\n');
}

if (import.meta.main) {
  await writeFile(CONTRACT_TPL_PATH, renderContractTpl());
  process.stdout.write(`wrote ${CONTRACT_TPL_PATH}\n`);
}
