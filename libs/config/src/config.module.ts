import { Global, Inject, Logger, Module, OnModuleInit } from '@nestjs/common';
import { AppConfig, loadConfig } from './config';

export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class ConfigModule implements OnModuleInit {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  static forRoot(config: AppConfig = loadConfig()) {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }

  /** Every process built on this module (API, worker) says what in its configuration is unwise. */
  onModuleInit() {
    const logger = new Logger('Config');
    for (const warning of this.config.warnings) {
      logger.warn(warning);
    }
  }
}
