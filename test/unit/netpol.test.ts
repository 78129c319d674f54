import { describe, expect, it } from 'vitest';
import type { Manifest } from '../support/k8s-strict.ts';
import { allows, inCidr, type IpEndpoint, type PodEndpoint } from '../support/netpol.ts';

const pod = (name: string, namespace: string, labels: Record<string, string>, ports: PodEndpoint['ports'] = []): PodEndpoint => ({
  kind: 'pod', name, namespace, namespaceLabels: { 'kubernetes.io/metadata.name': namespace, team: namespace === 'ops' ? 'ops' : 'game' }, labels, ports,
});
const policy = (name: string, namespace: string, spec: object): Manifest => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });

const web = pod('web', 'game', { app: 'web' }, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
const db = pod('db', 'game', { app: 'db' });
const ops = pod('ops', 'ops', { app: 'web' });
const outside: IpEndpoint = { kind: 'ip', name: 'outside', ip: '198.51.100.7' };
const denyAll = policy('deny', 'game', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

describe('NetworkPolicy evaluation', () => {
  it('lets everything through where no policy selects either end', () => {
    expect(allows([], web, db, 5432, 'TCP')).toBe(true);
    expect(allows([denyAll], ops, outside, 443, 'TCP')).toBe(true);
  });

  it('denies what a selecting policy does not allow, on each side separately', () => {
    const egress = policy('web-out', 'game', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }] });
    expect(allows([denyAll, egress], web, db, 5432, 'TCP')).toBe(false); // db's ingress is still closed
    const ingress = policy('db-in', 'game', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432, protocol: 'TCP' }] }] });
    expect(allows([denyAll, egress, ingress], web, db, 5432, 'TCP')).toBe(true);
    expect(allows([denyAll, egress, ingress], web, db, 5432, 'UDP')).toBe(false);
    expect(allows([denyAll, egress, ingress], web, db, 5433, 'TCP')).toBe(false);
    // A podSelector alone means the policy's own namespace: the same labels elsewhere do not count.
    expect(allows([denyAll, ingress], ops, db, 5432, 'TCP')).toBe(false);
  });

  it('resolves named ports on the destination pod, and reads namespaceSelector and ipBlock', () => {
    const named = policy('web-in', 'game', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }], ports: [{ port: 'http' }] }] });
    expect(allows([named], ops, web, 8080, 'TCP')).toBe(true);
    expect(allows([named], ops, web, 8081, 'TCP')).toBe(false);
    expect(allows([named], db, web, 8080, 'TCP')).toBe(false);
    const out = policy('web-out', 'game', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.0/29'] } }], ports: [{ port: 1000, endPort: 2000 }] }] });
    expect(allows([out], web, outside, 1500, 'TCP')).toBe(false); // .7 is in the exception
    expect(allows([out], web, { ...outside, ip: '198.51.100.9' }, 1500, 'TCP')).toBe(true);
    expect(allows([out], web, { ...outside, ip: '198.51.100.9' }, 2001, 'TCP')).toBe(false);
    expect(allows([out], web, { ...outside, ip: '203.0.113.1' }, 1500, 'TCP')).toBe(false);
  });

  it('treats an empty rule as everything and refuses selectors it cannot evaluate', () => {
    expect(allows([policy('open', 'game', { podSelector: {}, ingress: [{}] })], ops, db, 1, 'UDP')).toBe(true);
    expect(() => allows([policy('x', 'game', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } })], ops, db, 1, 'TCP')).toThrow(/matchExpressions/);
    expect([inCidr('10.1.2.3', '10.0.0.0/8'), inCidr('11.0.0.1', '10.0.0.0/8'), inCidr('1.2.3.4', '0.0.0.0/0'), inCidr('1.2.3.4', '::/0')]).toEqual([true, false, true, false]);
  });
});
