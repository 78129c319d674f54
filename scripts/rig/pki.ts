/**
 * The rig's TLS material: a CA, the API server's serving certificate, one client certificate per
 * identity and the ServiceAccount token signing key. Keys are ECDSA P-256 (fast to make); certificates
 * are signed by the `openssl` command (Node has no X.509 writer).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A client identity: the API server reads the user from CN and the groups from O. */
export interface ClientIdentity {
  readonly file: string;
  readonly user: string;
  readonly groups?: readonly string[];
}

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly saKey: string;
  readonly saPub: string;
  /** Client certificate and key paths by identity file name. */
  readonly clients: Record<string, { cert: string; key: string }>;
}

const DAYS = '3650';

function newKey(): { key: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the rig needs the `openssl` command to make its certificates. Fix: apt-get install openssl', { cause: err });
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** A serving certificate besides the API server's (the live rig's kubelet API). */
export interface ServingIdentity {
  readonly file: string;
  readonly cn: string;
  readonly ips: readonly string[];
}

/**
 * Creates all TLS material under `dir` (which must be new or empty). `apiServerIPs` are more
 * addresses the API server's certificate is valid for (where pods of the live rig reach it).
 */
export async function createPki(dir: string, clients: readonly ClientIdentity[], extra: { apiServerIPs?: readonly string[]; serving?: readonly ServingIdentity[] } = {}): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // A config with no extension sections, so only the extensions we pass with -addext are set.
  const conf = join(dir, 'openssl.cnf');
  await writeFile(conf, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n');

  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await writeFile(caKey, newKey().key, { mode: 0o600 });
  await openssl(['req', '-config', conf, '-x509', '-new', '-key', caKey, '-subj', '/CN=mmoctl-rig-ca', '-days', DAYS, '-out', caCert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-addext', 'subjectKeyIdentifier=hash']);

  const leaf = async (name: string, subj: string, ext: string[]): Promise<{ cert: string; key: string }> => {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.crt`);
    await writeFile(key, newKey().key, { mode: 0o600 });
    await openssl(['req', '-config', conf, '-x509', '-new', '-key', key, '-CA', caCert, '-CAkey', caKey, '-subj', subj, '-days', DAYS,
      '-out', cert, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
      ...ext.flatMap((e) => ['-addext', e])]);
    return { cert, key };
  };

  const server = await leaf('apiserver', '/CN=kube-apiserver', [
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${['127.0.0.1', '10.96.0.1', ...(extra.apiServerIPs ?? [])].map((ip) => `IP:${ip}`).join(',')},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
  ]);
  for (const s of extra.serving ?? []) await leaf(s.file, `/CN=${s.cn}`, ['extendedKeyUsage=serverAuth', `subjectAltName=${s.ips.map((ip) => `IP:${ip}`).join(',')}`]);
  const out: Record<string, { cert: string; key: string }> = {};
  await Promise.all(
    clients.map(async (c) => {
      const subj = `/CN=${c.user}${(c.groups ?? []).map((g) => `/O=${g}`).join('')}`;
      out[c.file] = await leaf(c.file, subj, ['extendedKeyUsage=clientAuth']);
    }),
  );
  const sa = newKey();
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  await writeFile(saKey, sa.key, { mode: 0o600 });
  await writeFile(saPub, sa.pub);
  return { dir, caCert, caKey, serverCert: server.cert, serverKey: server.key, saKey, saPub, clients: out };
}

/** Base64 of a PEM file, as kubeconfig's `*-data` fields want it. */
export async function pemData(path: string): Promise<string> {
  return (await readFile(path)).toString('base64');
}
