/**
 * One run of a container's probe, as the kubelet runs it: httpGet (success is a status from 200 to
 * 399, within timeoutSeconds), tcpSocket (a connection opens) or exec (the command exits 0, run in
 * the pod's network namespace). gRPC probes are not supported and fail, saying so.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createConnection } from 'node:net';
import type * as k8s from '@kubernetes/client-node';

export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed, in the kubelet's words ("HTTP probe failed with statuscode: 503"). */
  readonly message: string;
}

/** A probe's timing with Kubernetes' defaults. */
export function probeTiming(p: k8s.V1Probe): { initialDelayMs: number; periodMs: number; timeoutMs: number; successThreshold: number; failureThreshold: number } {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds ?? 10) * 1000,
    timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
}

/** A named port of the container as its number; numbers pass through. */
export function resolvePort(port: number | string, container: k8s.V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export interface ProbeTarget {
  readonly podIP: string;
  readonly container: k8s.V1Container;
  /** Runs argv in the pod's network namespace (exec probes). */
  readonly exec: (argv: string[], timeoutMs: number) => Promise<number>;
}

/** Runs `probe` once against the container. */
export async function runProbe(probe: k8s.V1Probe, target: ProbeTarget): Promise<ProbeResult> {
  const { timeoutMs } = probeTiming(probe);
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = resolvePort(g.port as number | string, target.container);
    if (port === undefined) return { ok: false, message: `port ${String(g.port)} is not a port of container ${target.container.name}` };
    const https = (g.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
    const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return new Promise((resolve) => {
      const req = (https ? httpsRequest : httpRequest)(
        { host: g.host || target.podIP, port, path: g.path ?? '/', method: 'GET', headers: { 'user-agent': 'kube-probe/rig', ...headers }, timeout: timeoutMs, rejectUnauthorized: false },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers after ${timeoutMs} ms)`)));
      req.on('error', (err) => resolve({ ok: false, message: `Get "http://${g.host || target.podIP}:${port}${g.path ?? '/'}": ${err.message}` }));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port as number | string, target.container);
    if (port === undefined) return { ok: false, message: `port ${String(probe.tcpSocket.port)} is not a port of container ${target.container.name}` };
    return new Promise((resolve) => {
      const socket = createConnection({ host: probe.tcpSocket!.host || target.podIP, port });
      const done = (r: ProbeResult) => {
        socket.destroy();
        resolve(r);
      };
      socket.setTimeout(timeoutMs, () => done({ ok: false, message: `dial tcp ${target.podIP}:${port}: i/o timeout` }));
      socket.once('connect', () => done({ ok: true, message: '' }));
      socket.once('error', (err) => done({ ok: false, message: `dial tcp ${target.podIP}:${port}: ${err.message}` }));
    });
  }
  if (probe.exec?.command?.length) {
    const code = await target.exec(probe.exec.command, timeoutMs).catch(() => -1);
    return code === 0 ? { ok: true, message: '' } : { ok: false, message: code === -1 ? 'command timed out or could not run' : `command exited with code ${code}` };
  }
  return { ok: false, message: 'the rig runs httpGet, tcpSocket and exec probes only' };
}

/** Runs argv in network namespace `netns` with `env`, resolving with its exit code (-1 on timeout). */
export function execInNetns(netns: string, cwd: string, env: Record<string, string>, argv: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, ...argv], { cwd, env, timeout: timeoutMs }, (err) => {
      if (!err) resolve(0);
      else resolve(typeof err.code === 'number' ? err.code : -1);
    });
  });
}
