import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountAuth, checkSecret } from '../../server/src/auth/accounts.ts';
import { AuthError } from '../../server/src/auth/auth.ts';
import { createAuthHttpHandler } from '../../server/src/auth/http.ts';
import { hashPassword, verifyPassword } from '../../server/src/auth/passwords.ts';
import type { RateWindows } from '../../server/src/limits/rate-window.ts';
import { signToken } from '../../server/src/auth/tokens.ts';
import { UnavailableError } from '../../server/src/unavailable.ts';
import { MemoryStore } from '../../server/src/store/memory.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const clock = () => {
  let t = Date.UTC(2026, 0, 1);
  return { now: () => t, advance: (ms: number) => (t += ms) };
};
/** Low scrypt cost keeps the suite fast; the cost itself is tested once below. */
const make = (store = new MemoryStore(), extra: Partial<ConstructorParameters<typeof AccountAuth>[1]> = {}) => {
  const c = clock();
  return { auth: new AccountAuth(store, { secret: SECRET, passwordCost: 10, now: c.now, ...extra }), clock: c, store };
};
/** Windows whose backend cannot answer (Redis down); counts the calls so a test sees they were tried. */
const downWindows = () => {
  const calls: string[] = [];
  const fail = (method: string) => async () => {
    calls.push(method);
    throw new UnavailableError('login throttle unavailable: Redis at redis://127.0.0.1:1 is not connected (reconnecting)');
  };
  const windows: RateWindows = () => ({ blockedFor: fail('blockedFor'), hit: fail('hit'), take: fail('take'), reset: fail('reset') });
  return { windows, calls };
};
const codeOf = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
  throw new Error('expected an AuthError');
};

describe('passwords', () => {
  it('hashes with a fresh salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse', 14);
    const b = await hashPassword('correct horse', 14);
    expect(a).toMatch(/^scrypt\$ln=14,r=8,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsf', a)).toBe(false);
    expect(await verifyPassword('anything', 'md5$abc')).toBe(false);
  });
});

describe('accounts and tokens', () => {
  it('registers, logs in and issues tokens that verify to the account', async () => {
    const { auth } = make();
    const registered = await auth.register('Ann_1', 'password123');
    expect(auth.verify(registered.token)).toEqual(registered.claims);
    expect(registered.claims.guest).toBe(false);
    const login = await auth.login('ann_1', 'password123', '10.0.0.1'); // names compare without case
    expect(login.claims.accountId).toBe(registered.claims.accountId);
  });

  it('creates guests with guest tokens', async () => {
    const { auth, store } = make();
    const guest = await auth.guest();
    expect(auth.verify(guest.token)).toMatchObject({ guest: true });
    expect(await store.getAccount(guest.claims.accountId)).toMatchObject({ username: null });
  });

  it('refuses a taken name, a bad name and a bad password with their codes', async () => {
    const { auth } = make();
    await auth.register('bob', 'password123');
    expect(await codeOf(auth.register('BOB', 'password456'))).toBe('username_taken');
    expect(await codeOf(auth.register('b', 'password123'))).toBe('bad_request');
    expect(await codeOf(auth.register('bad name!', 'password123'))).toBe('bad_request');
    expect(await codeOf(auth.register('carol', 'short'))).toBe('bad_request');
    expect(await codeOf(auth.register('carol', 'x'.repeat(129)))).toBe('bad_request');
  });

  it('answers wrong password and unknown user alike', async () => {
    const { auth } = make();
    await auth.register('dave', 'password123');
    expect(await codeOf(auth.login('dave', 'password124', 'k'))).toBe('bad_credentials');
    expect(await codeOf(auth.login('nobody', 'password123', 'k'))).toBe('bad_credentials');
  });

  it('rejects missing, malformed, forged and expired tokens with distinct codes', async () => {
    const { auth, clock: c } = make();
    const { token, claims } = await auth.guest();
    expect(await codeOf(() => auth.verify(''))).toBe('token_missing');
    for (const bad of ['abc', 'v1.abc', 'v2.a.b', 'v1.a b.c', `${token}.extra`]) expect(await codeOf(() => auth.verify(bad))).toBe('token_malformed');
    // Signed with another key.
    const forged = signToken({ ...claims, accountId: 'someone-else' }, Buffer.from('another-secret-another-secret-another'));
    expect(await codeOf(() => auth.verify(forged))).toBe('token_bad_signature');
    // Our signature over a tampered payload.
    const [v, , sig] = token.split('.');
    const tampered = `${v}.${Buffer.from(JSON.stringify({ sub: 'x', g: 0, exp: 9e9 })).toString('base64url')}.${sig}`;
    expect(await codeOf(() => auth.verify(tampered))).toBe('token_bad_signature');
    // Accepted by another process with the same secret; refused once expired.
    const peer = new AccountAuth(new MemoryStore(), { secret: SECRET, now: c.now });
    expect(peer.verify(token).accountId).toBe(claims.accountId);
    c.advance(86_400_000);
    expect(await codeOf(() => auth.verify(token))).toBe('token_expired');
  });

  it('locks a username after 5 failed logins, even for the right password, until the window passes', async () => {
    const { auth, clock: c } = make();
    await auth.register('erin', 'password123');
    for (let i = 0; i < 5; i++) expect(await codeOf(auth.login('erin', `guess-${i}-xx`, `ip-${i}`))).toBe('bad_credentials');
    const refused = await auth.login('erin', 'password123', 'ip-fresh').catch((e: AuthError) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe('rate_limited');
    expect((refused as AuthError).retryAfterSeconds).toBeGreaterThan(800);
    c.advance(901_000);
    await expect(auth.login('erin', 'password123', 'ip-fresh')).resolves.toBeTruthy();
  });

  it('throttles one client trying many usernames, and only that client', async () => {
    const { auth } = make();
    for (let i = 0; i < 20; i++) expect(await codeOf(auth.login(`user${i}`, 'password123', 'attacker'))).toBe('bad_credentials');
    expect(await codeOf(auth.login('user99', 'password123', 'attacker'))).toBe('rate_limited');
    expect(await codeOf(auth.login('user99', 'password123', 'someone-else'))).toBe('bad_credentials');
  });

  it('clears a username\'s failures after a successful login', async () => {
    const { auth } = make();
    await auth.register('fay', 'password123');
    for (let i = 0; i < 4; i++) await codeOf(auth.login('fay', 'nope-nope', `k${i}`));
    await auth.login('fay', 'password123', 'k');
    for (let i = 0; i < 4; i++) expect(await codeOf(auth.login('fay', 'nope-nope', `j${i}`))).toBe('bad_credentials');
  });

  it('reports a store outage as unavailable', async () => {
    const { auth, store } = make();
    await store.close();
    expect(await codeOf(auth.guest())).toBe('unavailable');
    expect(await codeOf(auth.login('gus', 'password123', 'k'))).toBe('unavailable');
  });

  it('refuses logins as unavailable while its rate windows cannot answer (fail closed, never unthrottled)', async () => {
    const store = new MemoryStore();
    await make(store).auth.register('gil', 'password123');
    const down = downWindows();
    const { auth } = make(store, { windows: down.windows });
    const refused = await auth.login('gil', 'password123', 'k').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe('unavailable');
    expect((refused as AuthError).cause).toBeInstanceOf(UnavailableError);
    expect(down.calls).toEqual(['take']);
  });

  it('requires a long enough secret, and one at all in clustered mode', () => {
    expect(() => checkSecret(undefined, true)).toThrow(/MMO_AUTH_SECRET: required when REDIS_URL or AMQP_URL is set/);
    expect(() => checkSecret('short', false)).toThrow(/at least 32 characters/);
    expect(checkSecret(undefined, false)).toHaveLength(32);
  });
});

describe('auth HTTP endpoints', () => {
  let server: Server;
  let base: string;
  let store: MemoryStore;
  beforeEach(async () => {
    store = new MemoryStore();
    const handler = createAuthHttpHandler(new AccountAuth(store, { secret: SECRET, passwordCost: 10 }), { createsPerMinute: 3, exemptLoopback: false });
    server = createServer((req, res) => {
      void handler(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end('not auth');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const post = (path: string, body?: unknown, raw?: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });

  it('registers, logs in and creates guests', async () => {
    const reg = await post('/auth/register', { username: 'hana', password: 'password123' });
    expect(reg.status).toBe(201);
    const session = (await reg.json()) as { token: string; accountId: string; guest: boolean; expiresAt: number };
    expect(session).toMatchObject({ guest: false, token: expect.stringMatching(/^v1\./) });
    const login = await post('/auth/login', { username: 'hana', password: 'password123' });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { accountId: string }).accountId).toBe(session.accountId);
    const guest = await post('/auth/guest');
    expect(guest.status).toBe(201);
    expect(await guest.json()).toMatchObject({ guest: true });
  });

  it('answers bad input with codes and statuses, and leaves other paths alone', async () => {
    expect((await post('/auth/login', undefined, '{not json')).status).toBe(400);
    expect(await (await post('/auth/login', { username: 1, password: [] })).json()).toMatchObject({ error: 'bad_request' });
    expect((await post('/auth/login', undefined, JSON.stringify({ username: 'x', password: 'y'.repeat(5000) }))).status).toBe(413);
    const wrong = await post('/auth/login', { username: 'nobody', password: 'password123' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'bad_credentials' });
    await post('/auth/register', { username: 'ivan', password: 'password123' });
    expect((await post('/auth/register', { username: 'ivan', password: 'password123' })).status).toBe(409);
    expect((await fetch(`${base}/auth/login`)).status).toBe(405);
    expect((await post('/auth/nope')).status).toBe(404);
    expect((await fetch(`${base}/ws`)).status).toBe(418);
  });

  it('throttles brute force with 429 and Retry-After', async () => {
    await post('/auth/register', { username: 'judy', password: 'password123' });
    for (let i = 0; i < 5; i++) await post('/auth/login', { username: 'judy', password: `wrong-${i}-xx` });
    const limited = await post('/auth/login', { username: 'judy', password: 'password123' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
  });

  it('limits account creation per address', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post('/auth/guest')).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
  });

  it('leaves loopback clients (load tests) out of the creation limit by default', async () => {
    const handler = createAuthHttpHandler(new AccountAuth(new MemoryStore(), { secret: SECRET }), { createsPerMinute: 3 });
    const local = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(local.address() as { port: number }).port}/auth/guest`;
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(url, { method: 'POST' })).status);
      expect(statuses).toEqual([201, 201, 201, 201, 201]);
    } finally {
      await new Promise<void>((r) => local.close(() => r()));
    }
  });

  it('answers 503 to a limited account creation while the creation window cannot answer', async () => {
    const down = downWindows();
    const handler = createAuthHttpHandler(new AccountAuth(store, { secret: SECRET, passwordCost: 10 }), { exemptLoopback: false, windows: down.windows });
    const other = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(other.address() as { port: number }).port}/auth/guest`, { method: 'POST' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'unavailable' });
      expect(down.calls).toEqual(['blockedFor']);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('answers 503 when accounts are unavailable', async () => {
    await store.close();
    const res = await post('/auth/login', { username: 'kim', password: 'password123' });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'unavailable' });
  });
});
