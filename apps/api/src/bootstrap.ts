import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { AppModule } from './app.module';
import { conditionalReads } from './common/etag';
import { markReplays } from './common/idempotency';
import { fastifyOptions } from './common/fastify-options';
import { closeAfterUnreadBodies, inflateBodies, parseJsonBodies } from './common/json-body';
import { ProblemFilter } from './common/problem.filter';
import { closeConnectionsOnShutdown } from './common/shutdown';
import { RefuseUnexpectedBodies, strictValidationPipe } from './common/validation';
import { recordHttpMetrics } from './metrics/http-metrics';

/**
 * Builds the HTTP application, initialised and ready to serve: main.ts listens, tests use it
 * in-process. Fastify rather than Express: a recorded join costs the API about 30% less CPU, a read
 * about half (README).
 */
export async function createApi(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), new FastifyAdapter(fastifyOptions), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  inflateBodies(fastify);
  parseJsonBodies(fastify);
  closeAfterUnreadBodies(fastify);
  recordHttpMetrics(fastify);
  markReplays(fastify);
  conditionalReads(fastify);
  closeConnectionsOnShutdown(fastify);
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalInterceptors(new RefuseUnexpectedBodies());
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
  await app.init();
  await fastify.ready();
  return app;
}
