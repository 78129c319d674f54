/**
 * What the gateway's parts share. A Session, and the modules that act for it (./login.ts,
 * ./transfer.ts, ./actions.ts), reach the server's services and the gateway's registry of sessions
 * through this one named context; the Gateway (./gateway.ts) is its implementation.
 */
import type { Auth } from '../auth/auth.ts';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../ops/metrics.ts';
import type { Presence } from '../presence/presence.ts';
import type { CharacterSaves } from '../saves.ts';
import type { Store } from '../store/store.ts';
import type { World } from '../world/world.ts';
import type { Handover } from './handover.ts';
import type { Session } from './session.ts';

/** The services the gateway works with (startServer passes them). */
export interface GatewayOptions {
  readonly world: World;
  readonly auth: Auth;
  readonly store: Store;
  readonly presence: Presence;
  readonly bus: Bus;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly serverId: string;
  /** Every character save goes through this queue. */
  readonly saves: CharacterSaves;
  /** Monotonic milliseconds for rate limits. */
  readonly now: () => number;
  /** Connections that have not said hello within this many ms are closed. Default 10000. */
  readonly helloTimeoutMs?: number;
  /** How long a login waits for a replaced session on another process to answer. Default 2000. */
  readonly releaseTimeoutMs?: number;
  /**
   * Milliseconds until the world's next tick is due (the Ticker's), for timing the mmo send
   * profile's frames to each player's inputs. Default: half a tick, always.
   */
  readonly msToNextTick?: () => number;
}

/** The services (defaults applied) and the registry of this process's sessions. */
export interface GatewayContext extends Required<GatewayOptions> {
  /** Final states of sessions that ended and transfers announced for players yet to arrive. */
  readonly handover: Handover;
  /** Handoffs being taken for announced transfers: a login of that character waits for them. */
  readonly taking: ReadonlyMap<string, Promise<void>>;
  /** True once the server drains: nobody is admitted any more. */
  readonly draining: boolean;
  /** True when no further player can be admitted (players in the world plus logins under way). */
  full(): boolean;
  /** Counts a login under way against the player limit, until `loginEnded`. */
  loginStarted(): void;
  loginEnded(): void;
  /** Makes `session` the account's session in this process; returns the one it replaces, if any. */
  bind(session: Session, accountId: string): Session | undefined;
  /** Makes a playing session findable by its character's name (whispers). */
  named(session: Session, name: string): void;
  /** The session playing the character named `name` in this process, if any. */
  sessionNamed(name: string): Session | undefined;
  /** Forgets a closed session. */
  forget(session: Session): void;
  /** Queues a session's pending output for the next flush. */
  schedule(session: Session): void;
  /** Sends every queued session's pending output now, one frame each. */
  flush(): void;
}
