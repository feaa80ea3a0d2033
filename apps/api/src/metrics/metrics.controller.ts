import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { registry } from '@app/metrics';
import { Public } from '../auth/auth';
import { MetricsGuard } from './metrics.guard';

/** Public to the API-key guard only: MetricsGuard decides (METRICS_TOKEN or an admin key). */
@ApiExcludeController()
@Public()
@UseGuards(MetricsGuard)
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', registry.contentType)
  metrics() {
    return registry.metrics();
  }
}
