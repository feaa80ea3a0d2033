import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { MetricsAccess } from '@app/access';
import { ProblemException } from '../common/problem';

/** /metrics takes METRICS_TOKEN or an admin API key (MetricsAccess), not the API's role rule. */
@Injectable()
export class MetricsGuard implements CanActivate {
  constructor(private readonly access: MetricsAccess) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const verdict = await this.access.check(context.switchToHttp().getRequest<FastifyRequest>().headers.authorization);
    if (!verdict.allowed) {
      throw new ProblemException(verdict.status, verdict.detail);
    }
    return true;
  }
}
