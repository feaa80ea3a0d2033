import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AppConfig, loadConfig } from '@app/config';
import { ApiKeysRepository } from '@app/access';
import { DATABASE, Database } from '@app/db';
import { createApi } from '../../apps/api/src/bootstrap';
import { TEST_REDIS_URL } from './test-env';
import { createTestDatabase, TestDatabase, testRedisPrefix } from './test-database';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestApp {
  app: INestApplication;
  t: TestDatabase;
  config: AppConfig;
  keys: { admin: string; curator: string; reader: string };
  http: () => ReturnType<typeof request>;
  /** An authenticated request helper: as('curator').post('/x').send(...) */
  as: (role: 'admin' | 'curator' | 'reader') => {
    get: (url: string) => request.Test;
    post: (url: string) => request.Test;
    patch: (url: string) => request.Test;
    delete: (url: string) => request.Test;
  };
  close(): Promise<void>;
}

/** The API in-process against a fresh database and a private Redis prefix. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: t.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testRedisPrefix(),
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    ...env,
  });
  const app = await createApi(config);
  const repo = app.get(ApiKeysRepository);
  const db = app.get<Database>(DATABASE);
  const curator = (await db.transaction().execute((trx) => repo.create(trx, 'test curator', 'curator'))).key;
  const reader = (await db.transaction().execute((trx) => repo.create(trx, 'test reader', 'reader'))).key;
  const keys = { admin: ADMIN_KEY, curator, reader };
  const http = () => request(app.getHttpServer());
  const as = (role: keyof typeof keys) => {
    const auth = (r: request.Test) => r.set('Authorization', `Bearer ${keys[role]}`);
    return {
      get: (url: string) => auth(http().get(url)),
      post: (url: string) => auth(http().post(url)),
      patch: (url: string) => auth(http().patch(url)),
      delete: (url: string) => auth(http().delete(url)),
    };
  };
  return {
    app,
    t,
    config,
    keys,
    http,
    as,
    async close() {
      await app.close();
      await t.destroy();
    },
  };
}
