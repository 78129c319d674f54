/**
 * Error codes the server sends to players. The numbers go over the wire and never change meaning;
 * new codes are appended. Clients may switch on the names (`ErrorCode`) or the numbers.
 */
export const ERROR_CODES = {
  /** The frame is empty, truncated, or has bytes left over after its message. */
  bad_frame: 1,
  /** The frame is larger than the protocol allows for its direction. */
  too_large: 2,
  /** The first byte names no message this protocol version knows. */
  unknown_type: 3,
  /** A field is out of its range, not finite, or not valid UTF-8. */
  bad_field: 4,
  /** The hello asked for a protocol version this server does not speak. */
  bad_version: 5,
  /** A message other than hello arrived before a successful hello. */
  not_authenticated: 6,
  /** The hello's token was refused (missing, malformed, bad signature, expired). */
  auth_failed: 7,
  /** A second hello on an authenticated connection. */
  already_authenticated: 8,
  /** The connection sends faster than its limits allow; the message was dropped. */
  rate_limited: 9,
  /** The zone does not exist or is not owned by this process. */
  zone_unavailable: 10,
  /** The process already holds MMO_MAX_PLAYERS players. */
  server_full: 11,
  /** The skill is still cooling down. */
  cooldown: 12,
  /** The attack target is unknown, dead, yourself, or out of range. */
  invalid_target: 13,
  /** The player is dead and cannot act until respawn. */
  dead: 14,
  /** The chat text is empty, too long or contains control characters. */
  chat_rejected: 15,
  /** The process is draining: it accepts no new players. */
  draining: 16,
  /** The server failed to handle the message; it was dropped and the connection kept. */
  internal: 17,
  /** The account logged in elsewhere; this connection is closed. */
  session_replaced: 18,
  /** Too many invalid messages: the connection is closed. */
  abuse: 19,
  /** Nobody by that name is online (whispers). */
  not_online: 20,
  /** A service the action needs (database, presence, bus) is down: nothing was done; try again. */
  unavailable: 21,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const NAMES: (ErrorCode | undefined)[] = [];
for (const [name, value] of Object.entries(ERROR_CODES)) NAMES[value] = name as ErrorCode;

/** The name of a numeric error code, or undefined for numbers this version does not know. */
export function errorCodeName(value: number): ErrorCode | undefined {
  return NAMES[value];
}
