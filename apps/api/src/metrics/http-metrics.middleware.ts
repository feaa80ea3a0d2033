import type { NextFunction, Request, Response } from 'express';
import { httpRequests } from '@app/metrics';

export function httpMetrics(req: Request, res: Response, next: NextFunction) {
  const stop = httpRequests.startTimer();
  res.on('finish', () => {
    // The matched route pattern, not the raw path, keeps the label set small.
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
    stop({ method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
  });
  next();
}
