// What a live rig does to this machine's network, and undoes: a second live rig (its own state
// directory, so the next slot: bridge, pod range and node addresses of its own) comes up, runs a
// process pod with a hostPort that the real portmap CNI plugin maps on its node's addresses (and on
// no other node's: all nodes share this kernel, so a mapping is per node address), and goes down;
// routes (every table), network namespaces, links, addresses, iptables rules and IP forwarding are
// then exactly what they were before.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { down, up, type RigInfo } from '../../scripts/rig/rig.ts';
import { clients, eventually } from '../cluster/kube.ts';

const exec = promisify(execFile);

/** The machine's network as text, counters left out. */
async function snapshot(): Promise<Record<string, string>> {
  const run = async (cmd: string, args: string[]) => (await exec(cmd, args)).stdout;
  const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
  return {
    routes: await run('ip', ['route', 'show', 'table', 'all']),
    routes6: await run('ip', ['-6', 'route', 'show', 'table', 'all']),
    netns: await run('ip', ['netns', 'list']),
    links: (await run('ip', ['-br', 'link'])).replace(/\s+(UP|DOWN|UNKNOWN|LOWERLAYERDOWN)\s+/g, ' '),
    addresses: await run('ip', ['-br', 'addr']),
    iptables: strip(await run('iptables-save', [])),
    ip6tables: strip(await run('ip6tables-save', [])),
    forwarding: await run('sysctl', ['-n', 'net.ipv4.ip_forward']),
  };
}

describe('a live rig on this machine\'s network', () => {
  let dir = '';
  let rig: RigInfo | undefined;

  afterAll(async () => {
    if (dir) await down({ live: true, stateDir: join(dir, 'rig') }).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('maps a hostPort on its node\'s addresses only, and down leaves the network exactly as up found it', async () => {
    const before = await snapshot();
    dir = await mkdtemp(join(tmpdir(), 'mmo-live-net-'));
    rig = await up({ live: true, stateDir: join(dir, 'rig') });
    const live = rig.live!;
    const during = await snapshot();
    expect(during.links).toContain(live.bridge);
    expect(during.routes).toMatch(new RegExp(`blackhole 10\\.244\\.0\\.0/22 proto 109 metric ${1000 + live.slot}`));

    const admin = clients(rig.kubeconfig);
    const [nodeA, nodeB] = live.nodes;
    const hostPort = 18_080;
    await admin.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'hostport', labels: { 'mmo.dev/rig-run': 'process' } },
        spec: {
          nodeName: nodeA!.name,
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'web',
            image: 'rig/checkout',
            command: ['node', '-e', "require('node:http').createServer((q, s) => s.end(process.env.HOSTNAME)).listen(8080)"],
            ports: [{ containerPort: 8080, hostPort, protocol: 'TCP' }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          }],
        },
      },
    });
    await eventually('the hostPort pod ready', async () => {
      const p = await admin.core.readNamespacedPod({ namespace: 'default', name: 'hostport' });
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, 60_000);
    for (const address of [nodeA!.externalIP, nodeA!.internalIP]) {
      const res = await fetch(`http://${address}:${hostPort}/`, { signal: AbortSignal.timeout(5000) });
      expect(await res.text(), address).toBe('hostport');
    }
    // Another node's address has no mapping: nothing answers there.
    await expect(fetch(`http://${nodeB!.externalIP}:${hostPort}/`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    expect((await snapshot()).iptables).toMatch(new RegExp(`--dport ${hostPort}`));

    await down({ live: true, stateDir: join(dir, 'rig') });
    rig = undefined;
    expect(await snapshot()).toEqual(before);
  });
});
