import { Module } from '@nestjs/common';
import { ApiKeysRepository } from './api-keys.repository';
import { MetricsAccess } from './metrics-access';

/** API keys and who may read metrics, for the API and the worker. */
@Module({ providers: [ApiKeysRepository, MetricsAccess], exports: [ApiKeysRepository, MetricsAccess] })
export class AccessModule {}
