import { ConfigError, loadConfig } from '@app/config';
import { ensureDatabase, migrate } from '@app/db';

async function main() {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  const result = await migrate(config.databaseUrl);
  console.log(JSON.stringify({ applied: result.applied, alreadyApplied: result.skipped.length }));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
