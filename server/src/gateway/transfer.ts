/**
 * Sending a player to the process that serves a zone this one does not (see docs/scale-out.md):
 *
 * - Joining such a zone hands the character over once: saved in the new zone, recorded as a
 *   Presence handoff, announced to the owner over the Bus, then the player is told to reconnect
 *   there (`transfer`) and leaves this world before any further input is applied.
 * - A login whose character stands in such a zone is redirected there before it joins.
 *
 * Both find the owner the same way and end the same way: the session's claim released, a
 * `transfer` message sent, the connection closed.
 */
import { SERVER_TYPE, writeTransfer } from '../../../protocol/codec.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';
import type { Character, CharacterState } from '../store/store.ts';
import type { GatewayContext } from './context.ts';
import type { Session } from './session.ts';

/** A handoff waits this long in Presence for the receiving process. */
const HANDOFF_TTL_MS = 60_000;

/**
 * Hands the character to the process that owns `zone`: saved there first, then the handoff, then
 * the player is told where to reconnect. Inputs are ignored from the start, so nothing the player
 * is acknowledged is left behind. Refused (the player stays) when no live process owns the zone or
 * the save fails.
 */
export async function transferOut(ctx: GatewayContext, s: Session, zone: number): Promise<void> {
  const { world, presence, bus, saves, serverId, log, metrics } = ctx;
  const p = s.player!;
  s.transferring = true;
  const refuse = (code: ErrorCode, message: string) => {
    s.transferring = false;
    if (!s.isClosed) s.reply(code, 0, message, true);
  };
  let owner: Owner | undefined;
  try {
    owner = await ownerElsewhere(ctx, zone);
  } catch {
    return refuse('unavailable', `cannot look up who serves zone ${zone} now; try again`);
  }
  if (!owner) return refuse('zone_unavailable', `zone ${zone} is not served by any process now`);
  if (s.isClosed) return;
  const size = world.config.zoneSize;
  const current = world.stateFor(p);
  const target: CharacterState = { ...current, zone, x: Math.random() * size, y: Math.random() * size, version: current.version + 1 };
  // Tracked like a pickup: a kick for this session answers `released` only after this save has
  // committed (or failed), so a login elsewhere never resumes from the pre-transfer state.
  const saved = saves.save([target], 'transfer');
  s.track(saved);
  try {
    await saved;
  } catch {
    p.version = target.version; // what we keep playing must outrank the row that may have landed
    p.changed = true;
    return refuse('unavailable', 'the move could not be saved; try again');
  }
  p.version = target.version;
  s.transferred = true;
  world.removePlayer(p);
  const handoff = { characterId: p.characterId, fromServerId: serverId, toZone: zone, state: target };
  await presence.putHandoff(handoff, HANDOFF_TTL_MS).catch((error: unknown) => log.warn('recording a handoff failed (the saved row carries it)', { error }));
  await bus
    .send(owner.serverId, { kind: 'transfer', characterId: p.characterId, accountId: p.accountId, toZone: zone, fromServerId: serverId })
    .catch((error: unknown) => log.warn('announcing a transfer failed (the player still lands there)', { error, to: owner.serverId }));
  metrics.zoneTransfers.labels({ direction: 'out' }).inc();
  log.debug('player transferred', { characterId: p.characterId, zone, to: owner.serverId });
  await sendTo(ctx, s, zone, owner.url, 'transferred');
}

/**
 * The logging-in character stands in a zone another live process owns: send the player there.
 * Returns false (play here; the world moves the character to a zone of ours) when no live process
 * owns it or presence cannot say.
 */
export async function redirect(ctx: GatewayContext, s: Session, character: Character, unsaved: CharacterState | undefined): Promise<boolean> {
  const owner = await ownerElsewhere(ctx, character.zone).catch(() => undefined);
  if (!owner || s.isClosed) return false;
  if (unsaved) await ctx.saves.save([unsaved], 'transfer');
  await sendTo(ctx, s, character.zone, owner.url, 'redirected');
  return true;
}

/** A live process other than this one, and how players reach it. */
interface Owner {
  readonly serverId: string;
  readonly url: string;
}

/** The live process serving `zone` if it is another one with an address; throws when presence cannot say. */
async function ownerElsewhere(ctx: GatewayContext, zone: number): Promise<Owner | undefined> {
  try {
    const owner = await ctx.presence.zoneOwner(zone);
    const url = owner && owner !== ctx.serverId ? await ctx.presence.serverUrl(owner) : undefined;
    return owner && url ? { serverId: owner, url } : undefined;
  } catch (error) {
    ctx.log.debug('zone owner lookup failed', { error, zone });
    throw error;
  }
}

/** Releases the session's claim, tells the player to reconnect to `url` for `zone`, and closes. */
async function sendTo(ctx: GatewayContext, s: Session, zone: number, url: string, reason: string): Promise<void> {
  if (s.accountId && s.sessionId) await ctx.presence.releaseSession(s.accountId, s.sessionId).catch(() => {});
  if (s.isClosed) return;
  writeTransfer(s.out, zone, url);
  s.queued(SERVER_TYPE.transfer);
  s.end(reason);
}
