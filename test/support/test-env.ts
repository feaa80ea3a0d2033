/** Where the tests find Postgres and Redis; the same defaults as the service. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export function templateName(): string {
  const name = process.env.AT_TEST_TEMPLATE;
  if (!name) {
    throw new Error('AT_TEST_TEMPLATE is not set: run the tests through jest (global setup makes the template)');
  }
  return name;
}
