// The players' path on the live rig (helm 4): a game server in udp.mode=hostPort announces its node's
// ExternalIP, an address of the rig's bridge, and the real portmap CNI plugin forwards that address's
// UDP port to the pod. `mmoctl status --probe-players` joins a bot over TCP and one over UDP (WebRTC)
// and passes; with the nodes' ExternalIPs wrong (each says another node's) the UDP probe fails at ice
// naming the wrong address the server announced; with the mapping gone it fails at ice too, TCP
// still passing.
//
// A player's machine is not reachable from the pod (it is behind NAT), but this machine is: WebRTC
// would then connect the other way, the server's checks reaching the bot and the bot answering to the
// pod's own address. So while this file runs, new UDP flows from the rig's pods to this machine are
// dropped (one iptables rule, removed afterwards): UDP reaches a pod only through the mapping.
import { execFile } from 'node:child_process';
import type * as k8s from '@kubernetes/client-node';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { removeHostPortMappings } from '../../scripts/rig/live/network.ts';
import { CHART_DIR, PRESETS_DIR } from '../support/chart.ts';
import { json, mmoctl } from '../support/cli.ts';
import { clients, eventually, helm, uniqueName } from '../cluster/kube.ts';
import { ensureMonitoringCrds, podSecurityNamespace } from '../cluster/mmo-chart.ts';
import { liveValues, readyPods, serviceSecrets, valuesFile } from './live-release.ts';
import { join } from 'node:path';

const exec = promisify(execFile);
const rig = inject('liveRig');
const live = rig.live;
const admin = clients(rig.kubeconfig);
const RELEASE = 'game';
const UDP_PORT = 20_000;

interface ProbeDoc {
  verdict: string;
  probe: { ok: boolean; probes: { transport: string; ok: boolean; hops: { hop: string; ok: boolean; detail: string }[] }[] };
}

describe('the players\' path through hostPort on the live rig (helm 4)', () => {
  const helmPath = () => inject('helmPaths')[4];
  let ns = '';
  let podIP = '';
  let node = live.nodes[0]!;
  const probe = async () => {
    const res = await mmoctl(['status', '-n', ns, '--release', RELEASE, '--no-metrics', '--probe-players', '--players-url', `http://${podIP}:8080`, '-o', 'json'], { kubeconfig: rig.kubeconfig, helm: helmPath(), timeoutMs: 60_000 });
    return { res, doc: json<ProbeDoc>(res) };
  };

  beforeAll(async () => {
    await ensureMonitoringCrds(admin);
    // hostPort needs Pod Security "privileged" (the chart refuses it elsewhere).
    ns = await podSecurityNamespace(admin, uniqueName('live-udp'), 'privileged');
    await serviceSecrets(admin, ns, live);
    const values = valuesFile(ns, liveValues(live, { replicas: 1, extra: { udp: { mode: 'hostPort', port: UDP_PORT, announce: { addressTypes: ['ExternalIP'] } } } }));
    const res = await helm(helmPath(), rig.kubeconfig, ['install', RELEASE, CHART_DIR, '-n', ns, '-f', join(PRESETS_DIR, 'dev.yaml'), '-f', values, '--wait', '--timeout', '150s'], 170_000);
    expect(res.code, res.stderr).toBe(0);
    await exec('iptables', ['-w', '5', '-I', 'INPUT', ...noUdpFromPods]);
    dropping = true;
    await gameServerPod();
  });

  const noUdpFromPods = ['-i', live.bridge, '-s', live.podCidr, '-p', 'udp', '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'mmoctl live suite: players behind NAT', '-j', 'DROP'];
  let dropping = false;
  /** The ready game server pod: its address and the rig node (with its real addresses) it runs on. */
  const gameServerPod = async () => {
    const [pod] = await readyPods(admin, ns, 'app.kubernetes.io/component=game-server', 1);
    podIP = pod!.status!.podIP!;
    node = live.nodes.find((n) => n.name === pod!.spec!.nodeName)!;
    return pod!;
  };
  /** Replaces the game server pod (its init container reads its node's address again). */
  const restartGameServer = async () => {
    const old = await gameServerPod();
    await admin.core.deleteNamespacedPod({ name: old.metadata!.name!, namespace: ns });
    await eventually('the old game server pod gone', async () => (await admin.core.listNamespacedPod({ namespace: ns })).items.every((p) => p.metadata!.uid !== old.metadata!.uid) || undefined, 90_000);
    await gameServerPod();
  };
  /** Sets every rig Node's ExternalIP in its status: what a cloud controller would write. */
  const setExternalIPs = async (of: (n: (typeof live.nodes)[number], i: number) => string) => {
    for (const [i, n] of live.nodes.entries()) {
      const current: k8s.V1Node = await admin.core.readNodeStatus({ name: n.name });
      current.status!.addresses = current.status!.addresses!.map((a) => (a.type === 'ExternalIP' ? { ...a, address: of(n, i) } : a));
      await admin.core.replaceNodeStatus({ name: n.name, body: current });
    }
  };
  let nodesChanged = false;

  afterAll(async () => {
    if (dropping) await exec('iptables', ['-w', '5', '-D', 'INPUT', ...noUdpFromPods]).catch(() => {});
    if (nodesChanged) await setExternalIPs((n) => n.externalIP).catch(() => {});
    if (!ns) return;
    await helm(helmPath(), rig.kubeconfig, ['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']).catch(() => {});
    await admin.core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('maps the UDP port on the node\'s addresses, and a bot joins over TCP and over UDP', async () => {
    const nat = (await exec('iptables-save', ['-t', 'nat'])).stdout;
    for (const address of [node.externalIP, node.internalIP]) expect(nat).toMatch(new RegExp(`-d ${address.replaceAll('.', '\\.')}/32 -p udp -m udp --dport ${UDP_PORT} -j DNAT --to-destination ${podIP.replaceAll('.', '\\.')}:${UDP_PORT}`));
    const { res, doc } = await probe();
    expect(doc.probe.ok, res.stdout).toBe(true);
    expect(doc.probe.probes.map((p) => `${p.transport} ${p.ok}`)).toEqual(['ws true', 'udp true']);
  });

  it('fails the UDP probe at the ice hop naming the address announced when a node\'s ExternalIP is wrong', async () => {
    // Each Node says another node's address: the server announces an address of this machine on
    // which nothing forwards to it (a real cluster's cloud controller can be just as wrong).
    nodesChanged = true;
    await setExternalIPs((_n, i) => live.nodes[(i + 1) % live.nodes.length]!.externalIP);
    try {
      await restartGameServer();
      const wrong = live.nodes[(live.nodes.indexOf(node) + 1) % live.nodes.length]!.externalIP;
      const { res, doc } = await probe();
      expect(doc.probe.ok, res.stdout).toBe(false);
      const [ws, udp] = doc.probe.probes;
      expect(ws).toMatchObject({ transport: 'ws', ok: true });
      expect(udp!.hops.map((h) => `${h.hop} ${h.ok}`)).toEqual(['http true', 'signalling true', 'ice false']);
      expect(udp!.hops.at(-1)!.detail).toContain(`at the address it announced, ${wrong}:${UDP_PORT}`);
      expect(udp!.hops.at(-1)!.detail).not.toContain(node.externalIP);
    } finally {
      await setExternalIPs((n) => n.externalIP);
      nodesChanged = false;
    }
    await restartGameServer();
    const { res, doc } = await probe();
    expect(doc.probe.ok, `the probe passes again with the right addresses:\n${res.stdout}`).toBe(true);
  });

  it('fails the UDP probe at the ice hop when the node\'s port is not forwarded, TCP still passing', async () => {
    expect(await removeHostPortMappings(live.bridge)).toBeGreaterThan(0);
    const { res, doc } = await probe();
    expect(doc.probe.ok, res.stdout).toBe(false);
    const [ws, udp] = doc.probe.probes;
    expect(ws).toMatchObject({ transport: 'ws', ok: true });
    expect(udp).toMatchObject({ transport: 'udp', ok: false });
    expect(udp!.hops.map((h) => `${h.hop} ${h.ok}`)).toEqual(['http true', 'signalling true', 'ice false']);
    expect(udp!.hops.at(-1)!.detail).toMatch(/no UDP reached the game server/);
    expect(doc.verdict).toBe('degraded');
  });
});
