import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@app/config';
import {
  Admission,
  AttemptResult,
  AttemptRow,
  DeliverJobData,
  DeliveryAttempts,
  DeliveryQueue,
  EndpointLanes,
  Slot,
  WebhookJob,
  WebhookQueue,
  WebhooksRepository,
} from '@app/webhooks';
import { OnJob } from '../jobs/on-job.decorator';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEQ = /^\d{1,19}$/;
/** Postgres unreachable or similar: try the job again after this, without counting an attempt. */
const UNEXPECTED_ERROR_DELAY_MS = 5_000;

export function parseDeliverJob(data: unknown): DeliverJobData {
  const d = (data ?? {}) as Partial<DeliverJobData>;
  if (typeof d.deliveryId !== 'string' || !UUID.test(d.deliveryId) || typeof d.endpointId !== 'string' || !UUID.test(d.endpointId)) {
    throw new Error(`not a ${WebhookJob.Deliver} payload: ${JSON.stringify(data).slice(0, 200)}`);
  }
  const seq = typeof d.seq === 'string' && SEQ.test(d.seq) ? d.seq : undefined;
  const prevSeq = typeof d.prevSeq === 'string' && SEQ.test(d.prevSeq) ? d.prevSeq : null;
  return { deliveryId: d.deliveryId, endpointId: d.endpointId, first: d.first === true, seq, prevSeq };
}

/**
 * BullMQ adapter for delivery attempts. Each job takes its place in its endpoint's lane
 * (per-endpoint concurrency, log order of first attempts). A failed attempt waits in the delayed
 * set for its retry under the same job id, the delivery id; a first attempt behind its
 * endpoint's backlog ends at once and the lane takes it from Postgres in order.
 */
@Injectable()
export class WebhookDeliveryProcessor implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);
  readonly lanes: EndpointLanes;
  private readonly timeoutMs: number;

  constructor(
    private readonly attempts: DeliveryAttempts,
    private readonly queue: DeliveryQueue,
    repository: WebhooksRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.timeoutMs = config.webhookTimeoutMs;
    const perEndpoint = config.webhookEndpointConcurrency;
    // Waiting jobs hold BullMQ slots; a reserve stays free so other endpoints' jobs get fetched.
    const reserve = Math.max(perEndpoint, Math.floor(config.webhookConcurrency / 4));
    this.lanes = new EndpointLanes(
      {
        perEndpoint,
        maxWaiting: Math.max(1, config.webhookConcurrency - reserve),
        maxWaitingPerEndpoint: 2 * perEndpoint,
      },
      {
        predecessorSettled: (seq) => repository.firstAttemptSettled(seq.toString()),
        pendingFirsts: async (endpointId, afterSeq, limit) =>
          (await repository.pendingFirsts(endpointId, afterSeq.toString(), limit)).map((row) => ({
            id: row.id,
            seq: BigInt(row.seq),
            row,
          })),
        runPulled: (endpointId, pulled, slot) => this.runPulled(endpointId, pulled.id, slot, pulled.row as AttemptRow),
        onError: (error) => this.logger.error({ err: error }, 'webhook lane failed'),
      },
    );
    queue.localTakeover = (endpointId, seq) => this.lanes.takeOver(endpointId, seq);
  }

  @OnJob(WebhookQueue.Deliveries, WebhookJob.Deliver)
  async deliver(job: Job, token?: string): Promise<string> {
    const data = parseDeliverJob(job.data);
    const task = (slot: Slot) => this.attempts.attempt(data.deliveryId, slot);
    const admission: Admission<AttemptResult> =
      data.first && data.seq !== undefined
        ? await this.lanes.submitInOrder(
            data.endpointId,
            data.deliveryId,
            { seq: BigInt(data.seq), prevSeq: data.prevSeq ? BigInt(data.prevSeq) : null },
            task,
          )
        : this.lanes.submit(data.endpointId, data.deliveryId, task);
    if (admission.kind === 'defer') {
      return 'deferred to the endpoint backlog';
    }
    if (admission.kind !== 'run') {
      return this.later(job, token, admission.until);
    }
    let result: AttemptResult;
    try {
      result = await admission.done;
    } catch (error) {
      this.logger.error({ err: error, deliveryId: data.deliveryId }, 'delivery attempt failed unexpectedly');
      return this.later(job, token, Date.now() + UNEXPECTED_ERROR_DELAY_MS);
    }
    if (result.kind === 'later') {
      if (data.first) {
        await job.updateData({ ...data, first: false });
      }
      return this.later(job, token, result.at.getTime());
    }
    return result.status;
  }

  /** Attempts taken from Postgres have no job for BullMQ to wait for: let them finish while Postgres is there. */
  async beforeApplicationShutdown() {
    await this.lanes.drain(this.timeoutMs + 5_000);
  }

  /** A first attempt taken from Postgres: its retry, if any, gets a job of its own. */
  private async runPulled(endpointId: string, deliveryId: string, slot: Slot, row: AttemptRow): Promise<void> {
    const result = await this.attempts.attempt(deliveryId, slot, row);
    if (result.kind === 'later') {
      await this.queue.tryEnqueue([{ deliveryId, endpointId, first: false, notBefore: result.at }]);
    }
  }

  private async later(job: Job, token: string | undefined, at: number): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }
}
