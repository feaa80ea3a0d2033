import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeysRepository } from '@app/access';
import { APP_CONFIG, AppConfig } from '@app/config';

@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.adminApiKey) {
      await this.keys.ensureBootstrapAdmin(this.config.adminApiKey);
    }
  }
}
