import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor, CommandMeta, Role } from '@app/shared';

export const ROLE_KEY = 'requiredRole';
export const PUBLIC_KEY = 'public';

/** The least role an endpoint needs: reader < curator < admin. */
export const RequireRole = (role: Role) => SetMetadata(ROLE_KEY, role);
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const RANK: Record<Role, number> = { reader: 1, curator: 2, admin: 3 };

export interface AuthedRequest extends FastifyRequest {
  actor?: Actor;
  commandMeta?: CommandMeta;
  correlationId?: string;
}

/** The command metadata the auth guard builds (actor, correlation id, Idempotency-Key). */
export const Meta = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandMeta => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  return req.commandMeta!;
});
