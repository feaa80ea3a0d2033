import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ApiKeysRepository } from '@app/access';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import { type Role, withTimeout } from '@app/shared';
import { idempotencyOf } from '../common/idempotency';
import { ProblemException } from '../common/problem';
import { AuthedRequest, PUBLIC_KEY, RANK, ROLE_KEY } from './auth';

/** A rate-limit count that takes longer than this is skipped: Redis is slow or going away. */
const RATE_LIMIT_TIMEOUT_MS = 250;

/** HEAD is a GET without the body (Fastify answers it from the GET route), so it is a read too. */
const READS = new Set(['GET', 'HEAD']);

/** Bearer API keys, role checks and a per-key fixed-window rate limit in Redis. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) {
      return true;
    }
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) {
      throw new ProblemException(401, 'send an API key as "Authorization: Bearer <key>"');
    }
    const actor = await this.keys.authenticate(match[1]);
    if (!actor) {
      throw new ProblemException(401, 'the API key is unknown or revoked');
    }
    const required =
      this.reflector.getAllAndOverride<Role>(ROLE_KEY, targets) ?? (READS.has(req.method) ? 'reader' : 'curator');
    if (RANK[actor.role] < RANK[required]) {
      throw new ProblemException(403, `this needs the ${required} role; key "${actor.name}" is ${actor.role}`);
    }
    await this.rateLimit(actor.id, context);
    req.actor = actor;
    const correlation = req.headers['x-correlation-id'];
    const idempotency = idempotencyOf(req);
    req.commandMeta = {
      actor,
      correlationId: typeof correlation === 'string' && correlation.length <= 200 ? correlation : randomUUID(),
      ...(idempotency ? { idempotency } : {}),
    };
    return true;
  }

  private async rateLimit(keyId: string, context: ExecutionContext) {
    const limit = this.config.rateLimitPerMinute;
    if (limit === 0) {
      return;
    }
    const window = Math.floor(Date.now() / 60_000);
    const bucket = `${this.config.redisPrefix}:ratelimit:${keyId}:${window}`;
    // Redis down: serve rather than refuse (or hang: this connection queues commands until it
    // is back); /health reports the outage.
    if (this.redis.status !== 'ready') {
      return;
    }
    let used: number;
    try {
      const counted = this.redis.multi().incr(bucket).expire(bucket, 61).exec() as Promise<[[null, number]]>;
      used = (await withTimeout(counted, RATE_LIMIT_TIMEOUT_MS, 'rate limit count'))[0][1];
    } catch {
      return;
    }
    if (used > limit) {
      const retryAfter = 60 - Math.floor((Date.now() % 60_000) / 1000);
      context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(retryAfter));
      throw new ProblemException(429, `rate limit of ${limit} requests per minute for this key exceeded; retry next minute`);
    }
  }
}
