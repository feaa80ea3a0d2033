import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from '@app/config';
import { migrate } from '@app/db';
import { ProjectionRebuilder, RebuildModule, RebuildRunningError } from '@app/rebuild';

// The replay allocates many short-lived objects; a larger young generation halves the time
// spent collecting them.
setFlagsFromString('--max-semi-space-size=64');

/** npm run projections:rebuild — empties the projection tables and replays the whole log. */
async function main() {
  const config = loadConfig();
  if (config.migrateOnStart) {
    await migrate(config.databaseUrl);
  }
  const app = await NestFactory.createApplicationContext(RebuildModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    let lastReport = 0;
    const result = await app.get(ProjectionRebuilder).rebuild({
      onProgress: ({ events, seconds }) => {
        if (seconds - lastReport >= 5) {
          lastReport = seconds;
          console.error(`rebuild: ${events} events in ${seconds.toFixed(1)} s (${Math.round(events / seconds)}/s)`);
        }
      },
    });
    console.log(JSON.stringify(result));
  } finally {
    await app.close();
  }
}

main().catch((error) => {
  console.error(error instanceof ConfigError || error instanceof RebuildRunningError ? error.message : error);
  process.exit(1);
});
