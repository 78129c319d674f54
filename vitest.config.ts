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
    ],
  },
});
