import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Job, Worker } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@app/config';
import { JOB_QUEUES } from './job-queues';
import { ON_JOB, OnJobMetadata } from './on-job.decorator';

export type JobHandler = (job: Job, token?: string) => Promise<unknown>;

/** Every @OnJob method of every provider, keyed "queue/name". */
export function discoverHandlers(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector) {
  const found = new Map<string, Array<{ owner: string; handler: JobHandler }>>();
  for (const wrapper of discovery.getProviders()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) {
      continue;
    }
    for (const method of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
      const fn = instance[method];
      const meta = typeof fn === 'function' ? reflector.get<OnJobMetadata>(ON_JOB, fn) : undefined;
      if (meta) {
        const key = `${meta.queue}/${meta.name}`;
        const list = found.get(key) ?? [];
        list.push({ owner: `${instance.constructor.name}.${method}`, handler: (fn as JobHandler).bind(instance) });
        found.set(key, list);
      }
    }
  }
  return found;
}

/** Why the handlers do not cover the queues one to one; empty when they do. */
export function handlerProblems(found: Map<string, Array<{ owner: string }>>): string[] {
  const problems: string[] = [];
  const expected = new Set(JOB_QUEUES.flatMap((q) => q.jobs.map((name) => `${q.queue}/${name}`)));
  for (const key of expected) {
    const handlers = found.get(key) ?? [];
    if (handlers.length === 0) {
      problems.push(`job ${key} has no @OnJob handler`);
    } else if (handlers.length > 1) {
      problems.push(`job ${key} has ${handlers.length} handlers: ${handlers.map((h) => h.owner).join(', ')}`);
    }
  }
  for (const [key, handlers] of found) {
    if (!expected.has(key)) {
      problems.push(`${handlers.map((h) => h.owner).join(', ')} handles ${key}, which no queue in JOB_QUEUES lists`);
    }
  }
  return problems;
}

/**
 * One BullMQ Worker per queue of JOB_QUEUES, dispatching each job by name to its @OnJob handler.
 * The process refuses to start when a job has no handler or two.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobWorkers.name);
  private readonly workers: Worker[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    const found = discoverHandlers(this.discovery, this.scanner, this.reflector);
    const problems = handlerProblems(found);
    if (problems.length > 0) {
      throw new Error(`job handlers do not match the queues:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    for (const spec of JOB_QUEUES) {
      const handlers = new Map(spec.jobs.map((name) => [name, found.get(`${spec.queue}/${name}`)![0].handler]));
      const worker = new Worker(
        spec.queue,
        (job, token) => {
          const handler = handlers.get(job.name);
          if (!handler) {
            throw new Error(`queue ${spec.queue} has no handler for job ${job.name}`);
          }
          return handler(job, token);
        },
        {
          connection: { url: this.config.redisUrl },
          prefix: this.config.redisPrefix,
          ...spec.workerOptions(this.config),
        },
      );
      worker.on('error', (error) => this.logger.warn({ err: error, queue: spec.queue }, 'worker error'));
      worker.on('failed', (job, error) =>
        this.logger.warn({ err: error, queue: spec.queue, jobId: job?.id, job: job?.name }, 'job failed'),
      );
      this.workers.push(worker);
    }
  }

  /** Before any module shuts down: running jobs still need Postgres to finish. */
  async beforeApplicationShutdown() {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
