// Reading kubeconfigs as kubectl does: merged KUBECONFIG files, relative certificate paths, the
// context to use, and what is said when something is missing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubeconfigFiles, loadConnection } from '../../../cli/kube/kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'mmoctl-kc-'));
const write = (name: string, body: object) => {
  const file = join(dir, name);
  writeFileSync(file, stringify(body));
  return file;
};
writeFileSync(join(dir, 'ca.crt'), 'CA-FROM-FILE');

const a = write('a.yaml', {
  clusters: [{ name: 'prod', cluster: { server: 'https://prod.example.com:6443/', 'certificate-authority': 'ca.crt' } }],
  users: [{ name: 'ops', user: { token: 'tok-a' } }],
  contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'ops' } }],
  'current-context': 'prod',
});
const b = write('b.yaml', {
  clusters: [{ name: 'prod', cluster: { server: 'https://shadowed.example.com' } }, { name: 'lab', cluster: { server: 'https://lab.example.com', 'insecure-skip-tls-verify': true } }],
  users: [{ name: 'dev', user: { 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') } }, { name: 'old', user: { 'auth-provider': { name: 'gcp' } } }],
  contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'dev' } }, { name: 'legacy', context: { cluster: 'lab', user: 'old' } }],
  'current-context': 'lab',
});

describe('kubeconfig', () => {
  const env = { KUBECONFIG: [a, b].join(delimiter) };

  it('merges every KUBECONFIG file, the first definition and current context winning', async () => {
    expect(kubeconfigFiles(undefined, env)).toEqual([a, b]);
    const c = loadConnection({}, env);
    expect(c).toMatchObject({ context: 'prod', server: 'https://prod.example.com:6443', user: 'ops', insecure: false });
    expect(c.ca?.toString()).toBe('CA-FROM-FILE');
    expect(await c.token!()).toBe('tok-a');
  });

  it('uses the named context, its client certificate, and marks what it cannot speak', () => {
    const lab = loadConnection({ context: 'lab' }, env);
    expect([lab.server, lab.insecure, lab.cert?.toString(), lab.key?.toString(), lab.token]).toEqual(['https://lab.example.com', true, 'CERT', 'KEY', undefined]);
    expect(loadConnection({ context: 'legacy' }, env).unsupported).toBe('an auth-provider');
  });

  it('says which contexts exist when asked for another, and what to do without any kubeconfig', () => {
    expect(() => loadConnection({ context: 'staging' }, env)).toThrow('the kubeconfig has no context "staging"; it has: prod, lab, legacy.');
    expect(() => loadConnection({}, { KUBECONFIG: join(dir, 'missing.yaml') })).toThrow(/no Kubernetes configuration/);
    expect(() => loadConnection({ kubeconfig: join(dir, 'missing.yaml') })).toThrow(/cannot read the kubeconfig .*missing\.yaml/);
  });
});
