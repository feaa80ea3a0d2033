import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { AppModule } from './app.module';
import { bodyParserProblems, checkBody, requireJsonBody } from './common/media-type.middleware';
import { ProblemFilter } from './common/problem.filter';
import { strictValidationPipe } from './common/validation';
import { httpMetrics } from './metrics/http-metrics.middleware';

/** Builds the HTTP application; main.ts listens, tests use it in-process. */
export async function createApi(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.use(httpMetrics);
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: '1mb', type: ['application/json', 'application/*+json'] });
  app.use(bodyParserProblems);
  app.use(checkBody);
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(strictValidationPipe());
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Alliance Tracker')
      .setDescription('Sourced, bitemporal history of alliance memberships and funding')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
