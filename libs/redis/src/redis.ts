import { Redis, RedisOptions } from 'ioredis';

/** BullMQ needs maxRetriesPerRequest: null on the connections its workers block on. */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, ...options });
  // Errors are retried by ioredis itself; without a listener they would crash the process.
  client.on('error', () => undefined);
  return client;
}
