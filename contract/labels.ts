/**
 * Labels and annotations the chart puts on objects and the CLI selects by. Selector labels never
 * change after install; the rest may.
 */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  /** `stable` or `canary` on game server pods; the canary analysis compares the two. */
  track: 'mmo.dev/track',
} as const;

export const TRACKS = ['stable', 'canary'] as const;
export type Track = (typeof TRACKS)[number];

/** Values of `app.kubernetes.io/component`. */
export const COMPONENTS = {
  gameServer: 'game-server',
  postgres: 'postgres',
  redis: 'redis',
  rabbitmq: 'rabbitmq',
  migrate: 'migrate',
  test: 'test',
  /** The scheduled pg_dump Job and the Jobs `mmoctl backup now` and `mmoctl restore` start from it. */
  backup: 'backup',
} as const;

/** `app.kubernetes.io/name` and `part-of` of everything the chart creates. */
export const CHART_NAME = 'mmo';
