// Settings the chart derives for the game server rather than copying from values: the public address
// players are transferred to (MMO_PUBLIC_URL) and the credentials it generates (MMO_ADMIN_TOKEN); and
// the values the server parses itself, which the chart must refuse exactly as the server would.
import { describe, expect, inject, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { loadConfig, parseZones } from '../../server/src/config.ts';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { find, render, templateRaw } from '../support/chart.ts';
import type { Manifest } from '../support/k8s-strict.ts';

const configOf = (ms: Manifest[]) => (find(ms, 'ConfigMap', 'game-mmo-server') as unknown as { data: Record<string, string> }).data;
const secretOf = (ms: Manifest[], name: string) =>
  Object.fromEntries(Object.entries((find(ms, 'Secret', name) as unknown as { data: Record<string, string> }).data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const serverEnv = (ms: Manifest[], name: string) =>
  ((find(ms, 'Deployment', 'game-mmo-server').spec as any).template.spec.containers[0].env as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]).find(
    (e) => e.name === name,
  );

describe('MMO_PUBLIC_URL', () => {
  const cases: { name: string; values: object; url: string }[] = [
    { name: 'every pod owns every zone: the game Service in the cluster', values: {}, url: 'http://game-mmo-server.mmo.svc:8080' },
    { name: 'the Service port follows service.port', values: { service: { port: 80 } }, url: 'http://game-mmo-server.mmo.svc:80' },
    { name: 'Ingress without TLS: its first host over http', values: { ingress: { enabled: true, hosts: ['play.example.com', 'b.example.com'] } }, url: 'http://play.example.com' },
    {
      name: 'Ingress with TLS for the first host: https',
      values: { ingress: { enabled: true, hosts: ['play.example.com'], tls: [{ secretName: 'tls', hosts: ['play.example.com'] }] } },
      url: 'https://play.example.com',
    },
    {
      name: 'Ingress with TLS for another host only: http',
      values: { ingress: { enabled: true, hosts: ['play.example.com', 'b.example.com'], tls: [{ secretName: 'tls', hosts: ['b.example.com'] }] } },
      url: 'http://play.example.com',
    },
    {
      name: 'an explicit address wins over the Ingress, without its trailing slash',
      values: { gameServer: { publicUrl: 'https://eu-1.game.example.com:8443/' }, ingress: { enabled: true, hosts: ['play.example.com'] } },
      url: 'https://eu-1.game.example.com:8443',
    },
    { name: 'a partition with its own address', values: { gameServer: { publicUrl: 'https://zones-a.example.com', config: { zones: '0-1' } } }, url: 'https://zones-a.example.com' },
    { name: 'a partition behind an Ingress', values: { gameServer: { config: { zones: '2-3' } }, ingress: { enabled: true, hosts: ['zones-b.example.com'] } }, url: 'http://zones-b.example.com' },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ms = await render(inject('helmPaths')[4], { values: [c.values], includeTests: false });
    expect(configOf(ms)[ENV.publicUrl.name]).toBe(c.url);
  });
});

describe('MMO_ADMIN_TOKEN', () => {
  it('is generated into the server Secret (40 characters) and read from there', async () => {
    const ms = await render(inject('helmPaths')[3], { includeTests: false });
    const token = secretOf(ms, 'game-mmo-server')[ENV.adminToken.name];
    expect(token).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(serverEnv(ms, ENV.adminToken.name)?.valueFrom?.secretKeyRef).toEqual({ name: 'game-mmo-server', key: ENV.adminToken.name });
  });

  it("comes from the studio's Secret with admin.existingSecret, and is then not generated", async () => {
    const ms = await render(inject('helmPaths')[4], { values: [{ gameServer: { admin: { existingSecret: 'ops-admin', existingSecretKey: 'token' } } }], includeTests: false });
    expect(Object.keys(secretOf(ms, 'game-mmo-server'))).not.toContain(ENV.adminToken.name);
    expect(serverEnv(ms, ENV.adminToken.name)?.valueFrom?.secretKeyRef).toEqual({ name: 'ops-admin', key: 'token' });
  });

  it('leaves out the server Secret when every credential comes from the studio', async () => {
    const ms = await render(inject('helmPaths')[4], {
      includeTests: false,
      values: [
        {
          gameServer: { auth: { existingSecret: 'a' }, admin: { existingSecret: 'b' } },
          postgres: { auth: { existingSecret: 'c' } },
          redis: { auth: { existingSecret: 'd' } },
          rabbitmq: { auth: { existingSecret: 'e' } },
        },
      ],
    });
    expect(ms.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name)).toEqual([]);
  });
});

// The chart and the server read these values with the same rules (contract/formats.ts): whatever the
// chart renders, the server starts with; whatever the chart refuses, the server would refuse too. The
// one exception is written down: the server reads an empty MMO_ZONES as unset ("*").
describe.each([3, 4] as HelmMajor[])('helm %i and the server agree on', (major) => {
  const chartTakes = async (values: object) => (await templateRaw(inject('helmPaths')[major], { values: [values], includeTests: false })).code === 0;
  const serverTakes = (fn: () => unknown) => {
    try {
      fn();
      return true;
    } catch {
      return false;
    }
  };

  describe.concurrent('zone lists', () => {
    const zones: [string, number][] = [
      ['*', 4], [' * ', 4], ['0', 4], ['3', 4], ['4', 4], ['0-3', 4], ['0,2-3', 4], ['4, 0-2,1', 8], ['0 - 1', 4], ['1-0', 4], ['0-4', 4], ['0,', 4],
      [',0', 4], ['0,,1', 4], ['a', 4], ['-1', 4], ['0-', 4], ['1234567', 1024], ['00', 4], ['0x1', 4], ['\uff11', 4], ['0\t,1', 4], ['1023', 1024], ['1024', 1024],
    ];
    it.for(zones)('%j of %i zones', async ([list, count], { expect }) => {
      const server = serverTakes(() => parseZones(list, count));
      const chart = await chartTakes({ gameServer: { config: { zones: list, zoneCount: count }, publicUrl: 'https://zones.example.com' } });
      expect(chart, `chart ${chart ? 'renders' : 'refuses'}, server ${server ? 'starts' : 'refuses'}`).toBe(server);
    });

    it('the empty list, which the server reads as unset and the chart refuses', async ({ expect }) => {
      expect(serverTakes(() => loadConfig({ [ENV.zones.name]: '' }, () => ''))).toBe(true);
      expect(await chartTakes({ gameServer: { config: { zones: '' } } })).toBe(false);
    });
  });

  describe.concurrent('public URLs', () => {
    const urls = [
      'https://game.example.com', 'http://game.example.com:8080', 'https://game.example.com/', 'https://game', 'https://10.0.0.30:30080', 'HTTPS://GAME.EXAMPLE.COM',
      'https://game.example.com/play', 'ws://game.example.com', 'https://user:pw@game.example.com', 'https://game.example.com?x=1', 'https://game.example.com#top',
      'https://10.0.0.300', 'https://[2001:db8::1]', 'https://a.0x1', 'https://game.example.com:0', 'https://game.example.com:65536', 'https://-x.example.com',
      'https://x_y.example.com', 'https://game.example.com.', 'https://game.example.com//',
    ];
    it.for(urls)('%s', async (url, { expect }) => {
      const server = serverTakes(() => loadConfig({ [ENV.publicUrl.name]: url }, () => ''));
      const chart = await chartTakes({ gameServer: { publicUrl: url } });
      expect(chart, `chart ${chart ? 'renders' : 'refuses'}, server ${server ? 'starts' : 'refuses'}`).toBe(server);
    });
  });
});
