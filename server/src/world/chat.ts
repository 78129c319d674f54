/**
 * Chat inside one zone: lines said since the last tick, delivered with the next one, batched. `say`
 * reaches the players within the interest radius of where it was said; zone chat (within the zone's
 * budget) and global chat reach every member of the zone.
 */
import { FrameWriter, SERVER_TYPE, writeChat } from '../../../protocol/codec.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import type { InterestGrid } from './grid.ts';
import type { Player } from './player.ts';
import type { Traffic } from './traffic.ts';

/**
 * Chat budgets, [burst, lines per second] in world time: what a zone's channel and this process's
 * global channel carry at most, whoever speaks. Zone and global chat reach every player in the
 * zone (or everywhere), so their cost grows with the square of the population; a channel moving
 * faster than this is unreadable anyway. Lines beyond it are refused (`rate_limited`, not a
 * strike: the player did nothing wrong). `say` has no shared budget: it reaches only the players
 * in view, so its cost grows with the local crowd, like snapshots.
 */
export const ZONE_CHAT_BUDGET: readonly [number, number] = [20, 10];
export const GLOBAL_CHAT_BUDGET: readonly [number, number] = [10, 5];

/** Where a `say` line sits in the zone's buffer, and where it was said. */
interface Say {
  readonly start: number;
  readonly end: number;
  readonly x: number;
  readonly y: number;
}

/** What a zone's chat needs from the world to deliver its lines. */
export interface ChatAudience {
  readonly members: readonly Player[];
  readonly grid: InterestGrid;
  readonly radius: number;
  /** The player in each grid slot. */
  readonly bySlot: readonly (Player | undefined)[];
  /** Scratch for grid queries, as long as the slot table. */
  readonly hearers: Int32Array;
  readonly traffic: Traffic;
}

export class ZoneChat {
  /** Zone and global lines since the last tick, delivered to every member as one block. */
  private readonly lines = new FrameWriter(256);
  private lineCount = 0;
  /** `say` lines since the last tick, encoded back to back; `says` holds where each one starts and ends and where it was said. */
  private readonly sayBytes = new FrameWriter(256);
  private readonly says: Say[] = [];
  /** Zone chat lines this zone may still carry (see ZONE_CHAT_BUDGET). */
  private readonly budget = new TokenBucket(ZONE_CHAT_BUDGET[0], ZONE_CHAT_BUDGET[1], 0);

  /** A `say` line of `p`, heard by the players in view of where `p` stands now. */
  say(p: Player, text: string): void {
    const w = this.sayBytes;
    const start = w.length;
    writeChat(w, 'say', p.id, p.name, text);
    this.says.push({ start, end: w.length, x: p.x, y: p.y });
  }

  /** A zone line of `p` at world time `now`; `rate_limited` (and dropped) over the zone's budget. */
  zone(p: Player, text: string, now: number): ErrorCode | undefined {
    if (!this.budget.take(now)) return 'rate_limited';
    writeChat(this.lines, 'zone', p.id, p.name, text);
    this.lineCount++;
    return undefined;
  }

  /** A global line (through the bus) for every member; `fromId` 0 when the sender is elsewhere. */
  global(fromId: number, fromName: string, text: string): void {
    writeChat(this.lines, 'global', fromId, fromName, text);
    this.lineCount++;
  }

  /** Delivers every line said since the last tick. */
  deliver(audience: ChatAudience): void {
    if (this.lineCount > 0) this.deliverLines(audience);
    if (this.says.length > 0) this.deliverSays(audience);
  }

  /** Copies the pending zone and global lines, as one block, to every member. */
  private deliverLines({ members, traffic }: ChatAudience): void {
    const bytes = this.lines.written();
    const lines = this.lineCount;
    for (let i = 0; i < members.length; i++) {
      const p = members[i]!;
      const w = p.sink.out;
      w.ensure(bytes.length);
      w.bytes.set(bytes, w.length);
      w.length += bytes.length;
      traffic.outMany(p.sink.transport, SERVER_TYPE.chat, lines);
      p.sink.markDirty();
    }
    this.lines.reset();
    this.lineCount = 0;
  }

  /** Copies each pending `say` line to the players within the interest radius of where it was said. */
  private deliverSays({ grid, radius, bySlot, hearers, traffic }: ChatAudience): void {
    const bytes = this.sayBytes.bytes;
    for (const say of this.says) {
      const n = grid.query(say.x, say.y, radius, hearers);
      const line = bytes.subarray(say.start, say.end);
      const len = line.length;
      for (let i = 0; i < n; i++) {
        const p = bySlot[hearers[i]!];
        if (!p) continue;
        const w = p.sink.out;
        w.ensure(len);
        w.bytes.set(line, w.length);
        w.length += len;
        traffic.out(p.sink.transport, SERVER_TYPE.chat);
        p.sink.markDirty();
      }
    }
    this.says.length = 0;
    this.sayBytes.reset();
  }
}
