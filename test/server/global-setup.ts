// Global setup of the `server` suite: our own PostgreSQL, Redis and RabbitMQ on loopback
// (scripts/services), their URLs handed to tests (`inject('services')`). Services this setup
// started are stopped afterwards; ones that were already up (`npm run services -- up`) stay up.
import type { TestProject } from 'vitest/node';
import { SERVICE_NAMES, type ServiceUrls, Services } from '../../scripts/services/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection URLs of this checkout's services. */
    services: ServiceUrls;
    /** The checkout's services directory (state, logs), for tests that stop and start a service. */
    servicesDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = new Services();
  const before = await services.status().catch(() => undefined);
  try {
    project.provide('services', await services.up());
    project.provide('servicesDir', services.dir);
  } catch (err) {
    throw new Error(
      `the server suite could not start PostgreSQL, Redis and RabbitMQ: ${err instanceof Error ? err.message : String(err)}\n` +
        `Logs: ${services.dir}. Try \`npm run services -- up\` to see the failure alone.`,
      { cause: err },
    );
  }
  return async () => {
    for (const name of SERVICE_NAMES) if (!before?.[name]) await services.stop(name);
  };
}
