/**
 * Text formats of values the game server parses and the chart checks before anything renders. Each
 * is one pattern, read by the server's configuration parser (server/src/config.ts) and written into
 * the chart by `npm run gen` (values.schema.json and templates/_contract.tpl), so the chart refuses
 * what the server would refuse: a value the chart lets through never crash-loops a pod.
 *
 * Patterns are written in the part of the syntax JavaScript and Go (RE2, what helm and its JSON
 * schema validators use) read alike: no look-around, no back-references, classes spelt out (`[0-9]`,
 * `[ \t]`, never `\d` or `\s`, whose meaning differs between the two).
 */

export interface Format {
  /** Anchored regular expression the whole value must match. */
  readonly pattern: string;
  /** What a valid value looks like, as error messages say it after "expected". */
  readonly expected: string;
  /** A valid value, for documentation and suggested fixes. */
  readonly example: string;
}

const blank = '[ \\t]*';

/**
 * One item of a zone list: an id or a range of ids ("2", "0-3"), capturing both ends. Six digits at
 * most: far above any zone count, and small enough that every parser reads the number exactly.
 */
export const ZONE_ITEM = `([0-9]{1,6})(?:${blank}-${blank}([0-9]{1,6}))?`;

const label = '[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?';
// The last label starts with a letter: a URL parser reads a host whose last label is a number
// ("1.2.3.999", "a.0x1") as an IPv4 address and refuses it when it is not one.
const lastLabel = '[a-zA-Z]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?';
const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const port = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9][0-9]|6[0-4][0-9][0-9][0-9]|[1-5][0-9][0-9][0-9][0-9]|[1-9][0-9]{0,3})';

export const FORMATS = {
  /** MMO_ZONES: the zones a process owns. Ids must also lie below MMO_ZONE_COUNT (checked apart). */
  zones: {
    pattern: `^${blank}(\\*|${ZONE_ITEM}(${blank},${blank}${ZONE_ITEM})*)${blank}$`,
    expected: '"*" or a comma list of zone ids and ranges like "0,2-3"',
    example: '0-1',
  },
  /** MMO_PUBLIC_URL: where players reach a process's game port; scheme, host and port only. */
  httpOrigin: {
    pattern: `^https?://((${label}\\.)*${lastLabel}|(${octet}\\.){3}${octet})(:${port})?/?$`,
    expected: 'http(s)://host[:port], with a DNS name or IPv4 address and no path, query or credentials',
    example: 'https://game.example.com',
  },
  /** Each URL of an RTCIceServer in MMO_ICE_SERVERS. */
  iceServerUrl: {
    pattern: '^(stun|stuns|turn|turns):.+$',
    expected: 'a stun:, stuns:, turn: or turns: URL',
    example: 'turn:turn.example.com:3478',
  },
} as const satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;
