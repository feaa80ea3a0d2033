import { CommandBus } from '@nestjs/cqrs';
import { ConfigError, loadConfig } from '@app/config';
import { ensureDatabase, migrate } from '@app/db';
import { ImportFactsCommand } from '@app/imports';
import { createApi } from '../apps/api/src/bootstrap';
import { demoFacts } from './demo-data';

/**
 * Records the demo data set through the same commands the API runs (one atomic import). A
 * fixed Idempotency-Key makes a second run a no-op that returns the first result.
 */
async function main() {
  const config = { ...loadConfig(), logLevel: 'warn' };
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const app = await createApi(config);
  await app.init();
  try {
    const facts = demoFacts();
    const result = await app.get(CommandBus).execute(
      new ImportFactsCommand(facts, {
        actor: { id: 'seed-demo', name: 'npm run seed:demo', role: 'admin' },
        correlationId: 'seed-demo',
        idempotency: { key: 'seed-demo-v1', requestHash: 'seed-demo-v1', method: 'SEED', path: 'seed:demo' },
      }),
    );
    console.log(JSON.stringify({ facts: facts.length, events: (result as { count: number }).count }));
  } finally {
    await app.close();
  }
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
