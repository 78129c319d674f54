/**
 * The hello: token, one session per account, character load, welcome.
 *
 * A character's newest state follows it from session to session: a login that replaces another
 * session (here or on another process) gets that session's final state before it loads, so a
 * reconnect never starts from an older row than the player last saw acknowledged (./handover.ts).
 * A character standing in a zone another live process owns is sent there (./transfer.ts).
 */
import { randomUUID } from 'node:crypto';
import { AuthError } from '../auth/auth.ts';
import { PROTOCOL_VERSION, SERVER_TYPE, writeInventory, writeWelcome } from '../../../protocol/codec.ts';
import type { Character, CharacterState } from '../store/store.ts';
import { isUnavailable } from '../unavailable.ts';
import { MAX_HP } from '../world/rules.ts';
import type { GatewayContext } from './context.ts';
import { newest, parseState } from './handover.ts';
import type { Session } from './session.ts';
import { redirect } from './transfer.ts';

/** Runs the hello of `s` with `token`; ends with the session playing, or kicked with the reason. */
export async function login(ctx: GatewayContext, s: Session, token: string): Promise<void> {
  const { auth, store, presence, bus, world, log, serverId, metrics, handover, saves } = ctx;
  if (ctx.draining) return s.kick('draining', 'this server is shutting down; connect again');
  let accountId: string;
  let guest: boolean;
  try {
    const claims = auth.verify(token);
    accountId = claims.accountId;
    guest = claims.guest;
  } catch (err) {
    const why = err instanceof AuthError ? err.code : 'token_malformed';
    metrics.rejected('auth_failed');
    return s.kick('auth_failed', `token refused: ${why}`);
  }
  if (ctx.full()) return s.kick('server_full', 'this server is full');
  ctx.loginStarted();
  let carried: CharacterState | undefined;
  try {
    const sessionId = randomUUID();
    s.accountId = accountId;
    s.sessionId = sessionId;
    // One session per account: a session here is closed at once and its final state taken over.
    const local = ctx.bind(s, accountId);
    if (local) local.kick('session_replaced', 'logged in elsewhere');
    carried = handover.finalOf(accountId);
    const replaced = await presence.claimSession({ accountId, sessionId, serverId });
    if (replaced && replaced.serverId !== serverId) {
      // Held by another process: ask it to let go and wait (briefly) for its final state.
      const waitStarted = performance.now();
      const released = handover.awaitRelease(accountId, replaced.sessionId, ctx.releaseTimeoutMs);
      await bus.send(replaced.serverId, { kind: 'kick', accountId, sessionId: replaced.sessionId, reason: 'logged in elsewhere', replyTo: serverId });
      carried = newest(carried, await released);
      log.debug('took over a session from another process', { ms: Math.round(performance.now() - waitStarted), from: replaced.serverId, carried: carried !== undefined });
    }
    const account = guest ? undefined : await store.getAccount(accountId);
    const spawn = world.spawnPoint();
    const stored = await store.loadOrCreateCharacter(accountId, {
      name: account?.username ?? `guest-${accountId.replace(/-/g, '').slice(0, 6)}`,
      zone: spawn.zone,
      x: spawn.x,
      y: spawn.y,
      hp: MAX_HP,
      level: 1,
      xp: 0,
    });
    await ctx.taking.get(stored.id);
    const handoff = handover.arrive(stored.id) ?? (await presence.takeHandoff(stored.id).catch(() => undefined));
    if (handoff) {
      metrics.zoneTransfers.labels({ direction: 'in' }).inc();
      carried = newest(carried, parseState(handoff.state));
    }
    if (carried?.id !== stored.id) carried = undefined;
    const character: Character = carried && carried.version > stored.version ? { ...stored, ...carried } : stored;
    // Carried state newer than the row must reach the store even if the player leaves now.
    const unsaved = character !== stored ? carried : undefined;
    if (s.isClosed) {
      if (unsaved) void saves.save([unsaved], 'logout').catch(() => {});
      return; // left while we were loading
    }
    if (!world.owns(character.zone) && (await redirect(ctx, s, character, unsaved))) return;
    const joined = world.addPlayer(character, s);
    if (!joined.ok) {
      if (unsaved) void saves.save([unsaved], 'logout').catch(() => {});
      return s.kick(joined.code, joined.code === 'server_full' ? 'this server is full' : 'cannot join');
    }
    if (unsaved) joined.player.changed = true;
    s.play(joined.player, character.inventory);
    welcome(ctx, s);
    metrics.connectionsTotal.labels({ transport: s.conn.transport }).inc();
  } catch (err) {
    if (carried) handover.rememberFinal(accountId, s.sessionId ?? '', carried);
    log.error('hello failed', { error: err, transport: s.conn.transport });
    s.kick(isUnavailable(err) ? 'unavailable' : 'internal', 'the server could not load your character; try again');
  } finally {
    ctx.loginEnded();
  }
}

/** Writes the welcome (the player's state now and the world settings) and the inventory. */
export function welcome(ctx: GatewayContext, s: Session): void {
  const p = s.player;
  if (!p) return;
  const c = ctx.world.config;
  writeWelcome(s.out, {
    version: PROTOCOL_VERSION, playerId: p.id, name: p.name, serverId: ctx.serverId, zone: p.zone, zoneCount: c.zoneCount,
    zoneSize: c.zoneSize, x: p.x, y: p.y, hp: p.hp, maxHp: p.maxHp, tickRate: c.tickRate, patchRate: ctx.world.patchRate,
    interestRadius: c.interestRadius, sendProfile: c.sendProfile ?? 'action',
  });
  writeInventory(s.out, s.inventory.map((i) => ({ item: i.itemId, quantity: i.quantity })));
  s.queued(SERVER_TYPE.welcome);
  s.queued(SERVER_TYPE.inventory);
  s.frameDue(); // in every profile the welcome leaves at once
}
