import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DATABASE, Database } from '@app/db';
import { SubscriptionOptions, SubscriptionRunner } from './subscription-runner';

/**
 * Owns the worker's subscription runners: feature modules register theirs during init, the
 * host starts them once the application is up and stops them (releasing locks) on shutdown.
 */
@Injectable()
export class SubscriptionHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionHost.name);
  private readonly runners = new Map<string, SubscriptionRunner>();

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  register(options: SubscriptionOptions): SubscriptionRunner {
    if (this.runners.has(options.name)) {
      throw new Error(`subscription ${options.name} is registered twice`);
    }
    const runner = new SubscriptionRunner(this.db, this.config.databaseUrl, {
      onError: (error) => this.logger.error({ err: error, subscription: options.name }, 'subscription batch failed'),
      ...options,
    });
    this.runners.set(options.name, runner);
    return runner;
  }

  list(): SubscriptionRunner[] {
    return [...this.runners.values()];
  }

  onApplicationBootstrap() {
    for (const runner of this.runners.values()) {
      runner.start();
    }
  }

  async onApplicationShutdown() {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }
}
