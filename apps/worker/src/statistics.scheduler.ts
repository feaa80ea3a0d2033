import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DATABASE, Database, refreshStatistics } from '@app/db';
import { Periodic } from './jobs/periodic';

/**
 * Refreshes the planner's statistics every STATISTICS_INTERVAL_MS on servers whose autovacuum
 * is off (where it is on, autovacuum does this and each run returns at once).
 */
@Injectable()
export class StatisticsScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StatisticsScheduler.name);
  private readonly periodic = new Periodic(async () => {
    try {
      const tables = await refreshStatistics(this.db);
      if (tables.length > 0) {
        this.logger.log(`analysed ${tables.join(', ')}`);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'refreshing planner statistics failed; the next run retries');
    }
  });

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    if (this.config.statisticsIntervalMs > 0) {
      this.periodic.start(this.config.statisticsIntervalMs);
    }
  }

  beforeApplicationShutdown() {
    return this.periodic.stop();
  }
}
