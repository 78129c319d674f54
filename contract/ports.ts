/**
 * Ports of the game server process. The chart, the CLI and the tests import these; nothing else
 * hard-codes a port number.
 */
export const PORTS = {
  /** HTTP: WebSocket players at `/ws`, WebRTC signaling for UDP players, the demo page. */
  game: 8080,
  /** UDP: WebRTC data channels; pinned so it can be exposed (hostPort, NodePort, firewall). */
  udp: 20000,
  /** HTTP: `/health/live`, `/health/ready`. */
  health: 8081,
  /** HTTP: `/metrics` (Prometheus) and `/version`. */
  metrics: 9090,
} as const;

/** Port names as they appear on containers and Services (at most 15 characters, IANA style). */
export const PORT_NAMES = {
  game: 'game',
  udp: 'game-udp',
  health: 'health',
  metrics: 'metrics',
} as const;

/** HTTP paths served by the game server. */
export const PATHS = {
  websocket: '/ws',
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
  version: '/version',
} as const;

/**
 * How players reach the game: `ws` (WebSocket on the game port, TCP) and `udp` (WebRTC data
 * channels on the UDP port). Also the values of the metrics' `transport` label.
 */
export const TRANSPORTS = ['ws', 'udp'] as const;
export type TransportName = (typeof TRANSPORTS)[number];
