export * from './schema';
export * from './database';
export * from './migrator';
export * from './db.module';
export * from './statistics';
export * from './unavailable';
