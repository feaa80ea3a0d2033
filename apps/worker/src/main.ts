import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { MetricsAccess } from '@app/access';
import { boundShutdown, ConfigError, loadConfig } from '@app/config';
import { ensureDatabase, migrate } from '@app/db';
import { startMetricsServer } from './metrics-server';
import { WorkerModule } from './worker.module';

async function main() {
  const config = loadConfig();
  boundShutdown(config.shutdownTimeoutMs);
  if (config.migrateOnStart) {
    await ensureDatabase(config.databaseUrl);
    await migrate(config.databaseUrl);
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  if (config.workerMetricsPort !== null) {
    await startMetricsServer(app.get(MetricsAccess), config.workerMetricsPort);
  }
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
