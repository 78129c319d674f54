/**
 * Wiring a pod's network namespace with the real CNI plugins of Debian's containernetworking-plugins,
 * called the way a container runtime calls them (the CNI protocol: the plugin binary with
 * CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH and CNI_ARGS in its environment and
 * the network configuration on stdin; for a list, each plugin gets the previous one's result as
 * `prevResult`, and DEL runs the list backwards):
 * - `loopback` brings up `lo`;
 * - `bridge` + `host-local` attach `eth0` to the rig's bridge with an address of the rig's pod range,
 *   and a route to each node address through the bridge — and no default route, so nothing a pod
 *   runs can reach past this machine;
 * - `portmap` maps each container `hostPort` on the addresses of the pod's node (its InternalIP and
 *   ExternalIP, both on the bridge) with iptables DNAT rules.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RigNode } from '../cluster.ts';
import type { NetworkPlan } from './network.ts';

/** Where Debian's containernetworking-plugins put the plugins. */
export const CNI_PATH = '/usr/lib/cni';
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

/** One port a container publishes on its node. */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP: string;
}

/** What identifies one pod's attachment: enough to undo it later, even after a restart of the kubelet. */
export interface Attachment {
  readonly containerId: string;
  readonly netns: string;
  readonly portMappings: readonly PortMapping[];
}

type PluginConf = Record<string, unknown>;

/** The pod network of a live rig as a CNI configuration list. `ipamDir` holds host-local's leases. Pure. */
export function podNetworkConfig(plan: NetworkPlan, ipamDir: string): { cniVersion: string; name: string; plugins: PluginConf[] } {
  return {
    cniVersion: '1.0.0',
    name: plan.bridge,
    plugins: [
      {
        type: 'bridge',
        bridge: plan.bridge,
        // Not a gateway: the plugin would enable IP forwarding on the machine. The bridge already holds
        // hostAddress (setUpNetwork), which the routes below use.
        isGateway: false,
        isDefaultGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: plan.podCidr, rangeStart: plan.podRange.start, rangeEnd: plan.podRange.end, gateway: plan.hostAddress }]],
          routes: plan.nodes.flatMap((n) => [n.internalIP, n.externalIP]).map((ip) => ({ dst: `${ip}/32`, gw: plan.hostAddress })),
          dataDir: ipamDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

const LOOPBACK: PluginConf = { cniVersion: '1.0.0', name: 'cni-loopback', type: 'loopback' };

/** Names the CNI plugins that are missing, for a clear refusal at `up`. */
export function missingCniPlugins(): string[] {
  return CNI_PLUGINS.filter((p) => !existsSync(join(CNI_PATH, p)));
}

function runPlugin(command: 'ADD' | 'DEL', conf: PluginConf, env: Record<string, string>): Promise<Record<string, unknown>> {
  const type = String(conf.type);
  return new Promise((resolve, reject) => {
    const child = execFile(join(CNI_PATH, type), [], { env: { ...env, CNI_COMMAND: command, CNI_PATH }, timeout: 30_000 }, (err, stdout) => {
      if (!err) {
        resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {});
        return;
      }
      // A plugin reports its error as JSON on stdout.
      let msg = err.message;
      try {
        const e = JSON.parse(stdout) as { msg?: string; details?: string };
        msg = [e.msg, e.details].filter(Boolean).join(': ') || msg;
      } catch {
        // not JSON
      }
      reject(new Error(`CNI ${type} ${command} failed: ${msg}`, { cause: err }));
    });
    child.stdin!.end(JSON.stringify(conf));
  });
}

function pluginEnv(a: Attachment, ifname: string, pod: { namespace: string; name: string }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_CONTAINERID: a.containerId,
    CNI_NETNS: `/run/netns/${a.netns}`,
    CNI_IFNAME: ifname,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${a.containerId}`,
  };
}

/** Adds the pod's interfaces (lo, then eth0 on the bridge, then its hostPorts); resolves with its IPv4 address. */
export async function attach(plan: NetworkPlan, ipamDir: string, a: Attachment, pod: { namespace: string; name: string }): Promise<string> {
  await runPlugin('ADD', LOOPBACK, pluginEnv(a, 'lo', pod));
  const list = podNetworkConfig(plan, ipamDir);
  let prevResult: Record<string, unknown> | undefined;
  for (const plugin of list.plugins) {
    const conf: PluginConf = { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult ? { prevResult } : {}) };
    if (plugin.type === 'portmap') {
      if (a.portMappings.length === 0) continue;
      conf.runtimeConfig = { portMappings: a.portMappings };
    }
    prevResult = await runPlugin('ADD', conf, pluginEnv(a, 'eth0', pod));
  }
  const ips = (prevResult?.ips ?? []) as { address: string }[];
  const address = ips.map((x) => x.address.split('/')[0]!).find((x) => x.includes('.'));
  if (!address) throw new Error(`CNI bridge gave pod ${pod.namespace}/${pod.name} no IPv4 address: ${JSON.stringify(prevResult)}`);
  return address;
}

/**
 * Removes what attach added, last plugin first. Tolerates a half-done attach and a namespace that
 * is already gone (as runtimes must); rejects only when a plugin itself fails.
 */
export async function detach(plan: NetworkPlan, ipamDir: string, a: Attachment, pod: { namespace: string; name: string }): Promise<void> {
  const list = podNetworkConfig(plan, ipamDir);
  const errors: string[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    const conf: PluginConf = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    if (plugin.type === 'portmap') conf.runtimeConfig = { portMappings: a.portMappings };
    await runPlugin('DEL', conf, pluginEnv(a, 'eth0', pod)).catch((err: Error) => errors.push(err.message));
  }
  if (errors.length) throw new Error(errors.join('; '));
}

/** The node addresses a hostPort is published on (a hostIP in the spec narrows it to that one). */
export function nodePortAddresses(node: RigNode, hostIP: string | undefined): string[] {
  if (hostIP && hostIP !== '0.0.0.0') return [hostIP];
  return [node.internalIP, node.externalIP];
}
