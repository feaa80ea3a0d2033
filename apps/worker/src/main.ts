import 'reflect-metadata';
import { createServer } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from '@app/config';
import { ensureDatabase, migrate } from '@app/db';
import { registry } from '@app/metrics';
import { WorkerModule } from './worker.module';

async function main() {
  const config = loadConfig();
  if (config.migrateOnStart) {
    await ensureDatabase(config.databaseUrl);
    await migrate(config.databaseUrl);
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  if (config.workerMetricsPort !== null) {
    // The worker listens on no port unless asked to, so API and worker can start side by side.
    createServer((req, res) => {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      });
    }).listen(config.workerMetricsPort);
  }
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
