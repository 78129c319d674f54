/**
 * What a playing session does beyond the world's inputs: pickups, the durable action (`granted` is
 * written only after the store committed the item), and whispers, delivered here or through
 * Presence and the Bus to the process that holds the other player.
 */
import { SERVER_TYPE, writeChat, writeGranted } from '../../../protocol/codec.ts';
import { ITEMS } from '../world/items.ts';
import type { GatewayContext } from './context.ts';
import type { Session } from './session.ts';

/** Picks up one `item`: answered `granted` with `seq` once committed, or an error with `seq`. */
export function pickup(ctx: GatewayContext, s: Session, seq: number, item: string): void {
  if (!ITEMS.has(item)) return s.reply('bad_field', seq, `no item ${item}: one of ${[...ITEMS].join(', ')}`);
  const { world, store, metrics, log } = ctx;
  const p = s.player!;
  // The position and the rest ride along in the same transaction.
  const state = world.stateFor(p);
  const started = performance.now();
  const action = store.grantItem(p.characterId, item, 1, state).then(
    (inventory) => {
      metrics.storeSaveDuration.labels({ kind: 'action' }).observe((performance.now() - started) / 1000);
      s.inventory = inventory;
      if (s.isClosed) return;
      writeGranted(s.out, seq, item, inventory.find((i) => i.itemId === item)?.quantity ?? 0);
      s.queued(SERVER_TYPE.granted);
    },
    (error: unknown) => {
      p.changed = true; // the state did not land with it: the next batch saves it
      log.warn('a pickup was not saved', { error, characterId: p.characterId });
      s.reply('unavailable', seq, 'the item could not be saved; try again');
    },
  );
  s.track(action);
}

/** A whisper to a player here, or through Presence and the Bus to the process that holds them. */
export async function whisper(ctx: GatewayContext, s: Session, to: string, text: string): Promise<void> {
  const { store, presence, bus, serverId, log } = ctx;
  const me = s.player!;
  // Usernames (and so character names) are stored lowercased; guests' names are lowercase too.
  const name = to.toLowerCase();
  const local = ctx.sessionNamed(name);
  if (local?.player) return whispered(local, me.name, text);
  try {
    // Registered accounts are found by name anywhere; guests only in the process they play on.
    const account = await store.findAccountByUsername(name);
    const session = account && (await presence.getSession(account.id));
    if (!account || !session || session.serverId === serverId) return s.reply('not_online', 0, `${to} is not online`);
    await bus.send(session.serverId, { kind: 'whisper', from: me.characterId, fromName: me.name, toAccountId: account.id, text, sentAt: Date.now() });
  } catch (error) {
    log.debug('a whisper could not be delivered', { error });
    s.reply('unavailable', 0, 'the whisper could not be delivered; try again');
  }
}

/** Delivers a whisper from another player (this process or another) to `s`. */
export function whispered(s: Session, fromName: string, text: string): void {
  writeChat(s.out, 'whisper', 0, fromName, text);
  s.queued(SERVER_TYPE.chat);
}
