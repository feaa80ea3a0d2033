import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Pool } from 'pg';
import { createDatabase, createPool } from './database';

export const DB_POOL = Symbol('DB_POOL');
export const DATABASE = Symbol('DATABASE');
export const InjectDb = () => Inject(DATABASE);

@Global()
@Module({
  providers: [
    { provide: DB_POOL, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createPool(c.databaseUrl) },
    { provide: DATABASE, inject: [DB_POOL], useFactory: (pool: Pool) => createDatabase(pool) },
  ],
  exports: [DB_POOL, DATABASE],
})
export class DbModule implements OnApplicationShutdown {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  async onApplicationShutdown() {
    await this.pool.end();
  }
}
