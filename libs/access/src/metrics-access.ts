import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApiKeysRepository } from './api-keys.repository';

export type MetricsVerdict = { allowed: true } | { allowed: false; status: 401 | 403; detail: string };

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who may read /metrics (the API's, and the worker's on WORKER_METRICS_PORT): the bearer of
 * METRICS_TOKEN, for a scraper that should hold no API key, or of an admin API key. The
 * figures name routes, queues and volumes, so nobody else.
 */
@Injectable()
export class MetricsAccess {
  private readonly token: Buffer | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly keys: ApiKeysRepository,
  ) {
    this.token = config.metricsToken === null ? null : digest(config.metricsToken);
  }

  async check(authorization: string | undefined): Promise<MetricsVerdict> {
    const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
    if (!bearer) {
      return { allowed: false, status: 401, detail: 'send METRICS_TOKEN or an admin API key as "Authorization: Bearer <token>"' };
    }
    // Digests of equal length: the comparison takes the same time whatever the bearer is.
    if (this.token && timingSafeEqual(digest(bearer), this.token)) {
      return { allowed: true };
    }
    const actor = await this.keys.authenticate(bearer);
    if (!actor) {
      return { allowed: false, status: 401, detail: 'neither METRICS_TOKEN nor a known API key' };
    }
    if (actor.role !== 'admin') {
      return { allowed: false, status: 403, detail: `metrics need METRICS_TOKEN or an admin key; key "${actor.name}" is ${actor.role}` };
    }
    return { allowed: true };
  }
}
