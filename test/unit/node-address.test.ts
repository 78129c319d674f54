import { describe, expect, it } from 'vitest';
import { chooseAddress, describeApiFailure, NodeAddressError, parseArgs, type AddressType, type NodeAddress } from '../../server/src/node-address.ts';

const ext = (address: string): NodeAddress => ({ type: 'ExternalIP', address });
const int = (address: string): NodeAddress => ({ type: 'InternalIP', address });
const host: NodeAddress = { type: 'Hostname', address: 'node-a' };

describe('node-address chooses what players can reach', () => {
  const cases: [string, NodeAddress[], AddressType[], string][] = [
    ['external address when the node has one', [host, int('10.0.0.5'), ext('203.0.113.7')], ['ExternalIP'], '203.0.113.7'],
    ['external before internal, whatever the order on the node', [int('10.0.0.5'), ext('203.0.113.7')], ['ExternalIP', 'InternalIP'], '203.0.113.7'],
    ['internal when allowed and there is no external one', [host, int('10.0.0.5')], ['ExternalIP', 'InternalIP'], '10.0.0.5'],
    ['internal first when preferred', [int('10.0.0.5'), ext('203.0.113.7')], ['InternalIP', 'ExternalIP'], '10.0.0.5'],
    ['IPv4 before IPv6 of the same type', [ext('2001:db8::7'), ext('203.0.113.7')], ['ExternalIP'], '203.0.113.7'],
    ['IPv6 when it is all the type has', [ext('2001:db8::7'), int('10.0.0.5')], ['ExternalIP'], '2001:db8::7'],
    ['skips empty addresses', [ext(''), ext(' 198.51.100.2 ')], ['ExternalIP'], '198.51.100.2'],
  ];
  it.each(cases)('%s', (_name, addresses, preference, expected) => {
    expect(chooseAddress('node-a', addresses, preference)).toBe(expected);
  });

  it('refuses a node without the wanted type, saying what it has and how to accept internal addresses', () => {
    expect(() => chooseAddress('node-a', [host, int('10.0.0.5')], ['ExternalIP'])).toThrow(
      /node node-a has no ExternalIP address \(it has Hostname node-a, InternalIP 10\.0\.0\.5\).*udp\.announce\.addressTypes/,
    );
  });

  it('refuses a node with no addresses at all', () => {
    expect(() => chooseAddress('node-a', [], ['ExternalIP', 'InternalIP'])).toThrow(/has no ExternalIP or InternalIP address \(it has no addresses at all\)/);
  });
});

describe('node-address flags', () => {
  const env = { NODE_NAME: 'node-a', KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  it('takes the node from NODE_NAME and the API server from the in-cluster variables', () => {
    const o = parseArgs(['--out=/run/mmo/announce/address', '--address-types=ExternalIP,InternalIP'], env);
    expect(o).toMatchObject({ node: 'node-a', apiServer: 'https://10.96.0.1:443', addressTypes: ['ExternalIP', 'InternalIP'], out: '/run/mmo/announce/address' });
  });

  it('brackets an IPv6 API server address', () => {
    expect(parseArgs(['--out=/x'], { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' }).apiServer).toBe('https://[fd00::1]:443');
  });

  it.each([
    ['an unknown address type', ['--out=/x', '--address-types=PublicIP'], env, /"PublicIP" is not one of ExternalIP, InternalIP/],
    ['no node name', ['--out=/x'], { KUBERNETES_SERVICE_HOST: 'h' }, /no node name.*NODE_NAME/],
    ['no output file', [], env, /no output file/],
    ['outside a cluster', ['--out=/x'], { NODE_NAME: 'n' }, /KUBERNETES_SERVICE_HOST is not set/],
    ['an unknown flag', ['--out=/x', '--verbose=1'], env, /unknown flag --verbose/],
    ['a positional argument', ['node-a'], env, /unexpected argument "node-a"/],
  ] as const)('rejects %s with a clear message', (_name, argv, e, message) => {
    expect(() => parseArgs(argv, e)).toThrow(NodeAddressError);
    expect(() => parseArgs(argv, e)).toThrow(message);
  });
});

describe('node-address explains API failures', () => {
  it.each([
    [403, /not allowed to get node node-a .*node-reader ClusterRole/],
    [401, /rejected the service-account token/],
    [404, /node node-a does not exist/],
    [500, /HTTP 500: etcd is sad/],
  ])('HTTP %i', (status, message) => {
    expect(describeApiFailure('node-a', status, JSON.stringify({ kind: 'Status', message: 'etcd is sad' }))).toMatch(message);
  });
});
