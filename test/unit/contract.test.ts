import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV, LOG_LEVELS, type EnvSpec } from '../../contract/env.ts';
import { METRICS, METRIC_PREFIX, type MetricSpec } from '../../contract/metrics.ts';
import { PORTS, PORT_NAMES } from '../../contract/ports.ts';

const envSpecs: EnvSpec[] = Object.values(ENV);
const metricSpecs: MetricSpec[] = Object.values(METRICS);

describe('environment contract', () => {
  it('names every variable once', () => {
    const names = envSpecs.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(envSpecs.filter((s) => s.default !== undefined).map((s) => [s.name, s] as const))(
    '%s has a default its own type accepts',
    (_name, spec) => {
      const value = spec.default!;
      const kind = spec.kind;
      switch (kind.type) {
        case 'int':
        case 'number': {
          const n = Number(value);
          expect(kind.type === 'int' ? Number.isInteger(n) : Number.isFinite(n)).toBe(true);
          expect(n).toBeGreaterThanOrEqual(kind.min);
          expect(n).toBeLessThanOrEqual(kind.max);
          break;
        }
        case 'bool':
          expect(['true', 'false']).toContain(value);
          break;
        case 'enum':
          expect(kind.values).toContain(value);
          break;
        default:
          expect(value.length).toBeGreaterThan(0);
      }
    },
  );

  it('makes variables required only by variables that exist', () => {
    const keys = envSpecs.flatMap((s) => s.requiredWhenSet?.keys ?? []);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(Object.keys(ENV)).toContain(key);
  });

  it('never gives a credential a default', () => {
    expect(envSpecs.filter((s) => s.secret && s.default !== undefined)).toEqual([]);
  });
  it("offers in the chart's values schema exactly the log levels the server accepts", () => {
    const schema = JSON.parse(readFileSync(new URL('../../charts/mmo/values.schema.json', import.meta.url), 'utf8'));
    expect(schema.properties.gameServer.properties.config.properties.logLevel.enum).toEqual([...LOG_LEVELS]);
  });
});

describe('ports contract', () => {
  it('uses distinct ports', () => {
    const tcp = [PORTS.game, PORTS.health, PORTS.metrics];
    expect(new Set(tcp).size).toBe(tcp.length);
  });

  it('names ports as Kubernetes allows (IANA service name, at most 15 characters)', () => {
    for (const name of Object.values(PORT_NAMES)) expect(name).toMatch(/^(?=.{1,15}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });
});

describe('metrics contract', () => {
  it.each(metricSpecs.map((m) => [m.name, m] as const))('%s follows Prometheus naming', (name, spec) => {
    expect(name.startsWith(METRIC_PREFIX)).toBe(true);
    expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
    if (spec.type === 'counter') expect(name).toMatch(/_total$/);
    if (spec.type === 'histogram') {
      expect(name).toMatch(/_seconds$/);
      const buckets = spec.buckets ?? [];
      expect(buckets.length).toBeGreaterThan(3);
      expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
    }
    for (const label of spec.labels) expect(label).toMatch(/^[a-z_][a-z0-9_]*$/);
  });
});

describe('configuration reference (docs/configuration.md)', () => {
  it('is current with contract/env.ts (run `npm run gen` and commit the result)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { CONFIGURATION_DOC_PATH, renderConfigurationDoc } = await import('../../scripts/gen/configuration-doc.ts');
    expect(await readFile(CONFIGURATION_DOC_PATH, 'utf8')).toBe(renderConfigurationDoc());
  });

  it('lists every variable of the contract', async () => {
    const { renderConfigurationDoc } = await import('../../scripts/gen/configuration-doc.ts');
    const doc = renderConfigurationDoc();
    for (const spec of envSpecs) expect(doc).toContain(`| \`${spec.name}\` |`);
  });
});
