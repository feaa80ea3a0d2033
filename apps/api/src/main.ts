import 'reflect-metadata';
import { boundShutdown, ConfigError, loadConfig } from '@app/config';
import { ensureDatabase, migrate } from '@app/db';
import { createApi } from './bootstrap';

async function main() {
  const config = loadConfig();
  boundShutdown(config.shutdownTimeoutMs);
  if (config.migrateOnStart) {
    await ensureDatabase(config.databaseUrl);
    await migrate(config.databaseUrl);
  }
  const app = await createApi(config);
  // Every interface, as with Express (Fastify alone would listen on localhost only).
  await app.listen(config.port, '0.0.0.0');
}

main().catch((error) => {
  // A bad configuration names every problem and stops the process before anything starts.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
