import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV, type EnvKind, type EnvSpec } from '../../contract/env.ts';
import { FORMATS } from '../../contract/formats.ts';
import { METRICS, RECORDED } from '../../contract/metrics.ts';
import { CONTRACT_TPL_PATH, renderContractTpl } from '../../scripts/gen/chart-contract.ts';
import { DASHBOARD_PATH, renderDashboard } from '../../scripts/gen/dashboard.ts';
import { CHECKS_DOC_PATH, renderChecksDoc } from '../../scripts/gen/checks-doc.ts';
import { VALUES_DOC_PATH, collectRows, renderValuesDoc, schemaAt } from '../../scripts/gen/values-doc.ts';
import { VALUES_SCHEMA_PATH, renderValuesSchema, valuesSchema } from '../../scripts/gen/values-schema.ts';
import { CHART_DIR, PRESETS, PRESETS_DIR } from '../support/chart.ts';

const FIX = 'run `npm run gen` and commit the result';

describe('files generated from the contract', () => {
  it('templates/_contract.tpl matches contract/*.ts', async () => {
    expect(await readFile(CONTRACT_TPL_PATH, 'utf8'), FIX).toBe(renderContractTpl());
  });

  it('values.schema.json matches its generator (contract ranges and formats included)', async () => {
    expect(await readFile(VALUES_SCHEMA_PATH, 'utf8'), FIX).toBe(renderValuesSchema());
  });

  it.each((Object.values(ENV) as EnvSpec[]).flatMap((spec) => (spec.chartValues ?? []).map((path) => [path, spec.name, spec.kind] as const)))(
    'the schema of %s refuses what the server refuses in %s',
    (path, _name, kind: EnvKind) => {
      const s = schemaAt(valuesSchema(), path.split('.'));
      expect(s, `${path} is not in the schema`).toBeDefined();
      if (kind.type === 'int' || kind.type === 'number') {
        expect(s!.minimum).toBeGreaterThanOrEqual(kind.min);
        expect(s!.maximum).toBeLessThanOrEqual(kind.max);
      }
      if (kind.type === 'enum') expect(s!.enum).toEqual(kind.values);
      if ((kind.type === 'string' || kind.type === 'url') && kind.format) expect(s!.pattern).toMatch(new RegExp(`(^|\\|)${FORMATS[kind.format].pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    },
  );

  it('files/dashboard.json matches its generator', async () => {
    expect(await readFile(DASHBOARD_PATH, 'utf8'), FIX).toBe(renderDashboard());
  });

  it('the dashboard queries only metric names of the contract', async () => {
    const text = await readFile(DASHBOARD_PATH, 'utf8');
    const used = new Set([...text.matchAll(/game_server_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
    // Recorded series (level:metric:operation) count by their metric part.
    const known = new Set<string>([...Object.values(METRICS).map((m) => m.name), ...Object.values(RECORDED).map((r) => r.split(':')[1]!)]);
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThan(8);
  });

  it("the dashboard shows every series the chart's recording rules write", async () => {
    const text = await readFile(DASHBOARD_PATH, 'utf8');
    expect(Object.values(RECORDED).filter((name) => !text.includes(name))).toEqual([]);
  });

  it('the dashboard shows every metric of the contract (a new metric needs a panel)', async () => {
    const text = await readFile(DASHBOARD_PATH, 'utf8');
    expect(Object.values(METRICS).map((m) => m.name).filter((name) => !text.includes(name))).toEqual([]);
  });
});

describe('checks reference (docs/checks.md)', () => {
  it('is current with the preflight checks', async () => {
    expect(await readFile(CHECKS_DOC_PATH, 'utf8'), FIX).toBe(renderChecksDoc());
  });
});

describe('values reference (docs/values.md)', () => {
  it('is current with values.yaml and values.schema.json', async () => {
    expect(await readFile(VALUES_DOC_PATH, 'utf8'), FIX).toBe(renderValuesDoc());
  });

  it('documents every value where it is defined (a `# --` comment) and types it in the schema', () => {
    const rows = collectRows();
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.filter((r) => !r.description).map((r) => r.key), 'values without a # -- comment').toEqual([]);
    expect(rows.filter((r) => !r.inSchema).map((r) => r.key), 'values the schema does not cover').toEqual([]);
  });
});

describe('values files', () => {
  // Credentials belong in Secrets: a values key that looks like one may only name a Secret or a key.
  const credentialLike = /pass(word)?|secret|token|credential|apikey/i;
  const allowed = /^(existingSecret|existingSecretKey|passwordKey|urlKey|iceServersSecret|authSecret)$/;

  function offending(value: unknown, path: string, out: string[]): string[] {
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const p = path ? `${path}.${k}` : k;
        if (credentialLike.test(k) && !allowed.test(k) && !(v && typeof v === 'object')) out.push(p);
        offending(v, p, out);
      }
    }
    return out;
  }

  it.each(['charts/mmo/values.yaml', ...PRESETS.map((p) => `values/${p}.yaml`)])('%s holds no credential', async (file) => {
    const path = file.startsWith('values/') ? join(PRESETS_DIR, file.slice('values/'.length)) : join(CHART_DIR, 'values.yaml');
    expect(offending(parse(await readFile(path, 'utf8')), '', [])).toEqual([]);
  });

  it('the credential check catches a password in values', () => {
    expect(offending({ postgres: { auth: { password: 'hunter2' } } }, '', [])).toEqual(['postgres.auth.password']);
  });
});
