// The service scripts the outage tests rely on: stopping one service and starting it again keeps
// its URL, and the other services are untouched.
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { Services } from '../../scripts/services/services.ts';

describe('test services', () => {
  it('stops and starts one service at the same address while the others stay up', async () => {
    const services = new Services();
    const urls = inject('services');
    await services.stop('redis');
    expect(await services.status()).toEqual({ postgres: true, redis: false, rabbitmq: true });
    await services.start('redis');
    expect(await services.status()).toEqual({ postgres: true, redis: true, rabbitmq: true });
    expect(services.urls()).toEqual(urls);
  });

  it('brings services up idempotently', async () => {
    const services = new Services();
    expect(await services.up()).toEqual(inject('services'));
  });
});
