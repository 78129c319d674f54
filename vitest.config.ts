import { defineConfig } from 'vitest/config';

// One project per kind of suite, so each owns its setup (services, helm, the rig) and timeouts.
// `npm test` runs them all; `vitest run --project <name>` runs one.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'chart',
          include: ['test/chart/**/*.test.ts'],
          // Fetches the pinned helm 3 and helm 4 binaries once (offline after the first run).
          globalSetup: ['test/chart/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'server',
          include: ['test/server/**/*.test.ts'],
          // Starts this checkout's own PostgreSQL, Redis and RabbitMQ (scripts/services) on loopback.
          globalSetup: ['test/server/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          // Outage tests stop and start shared services: files must not run at the same time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'loadtest',
          include: ['test/loadtest/**/*.test.ts'],
          // Each file starts its own game server processes on free loopback ports.
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // Needs Debian's chromium (scripts/setup/debian-packages.txt); builds the demo page first.
          globalSetup: ['test/browser/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'game',
          include: ['test/game/**/*.test.ts'],
          // Real server processes on free loopback ports, real ws and WebRTC clients.
          testTimeout: 90_000,
          hookTimeout: 60_000,
          // Each file loads the 2-core machine with its own server: one file at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          // Brings this checkout's Kubernetes rig up once (building it on a machine's first run, which
          // takes tens of minutes) and down at the end; MMOCTL_RIG_KEEP=1 leaves it running.
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Files mostly wait on the rig (rollouts, helm timeouts), not on this process's CPU: two at a
          // time halve the suite. Each file uses its own namespaces, free node ports and releases.
          // A project with its own maxWorkers needs its own group (vitest refuses to mix them).
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'live',
          include: ['test/live/**/*.test.ts'],
          // The live rig (root): game server pods run as processes in network namespaces on the rig's
          // bridge, with this checkout's PostgreSQL, Redis and RabbitMQ and a real Prometheus.
          globalSetup: ['test/live/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Real game servers and hundreds of bots on 2 cores, and checks of the machine's network
          // before and after: one file at a time, after the cluster suite.
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
