import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import type { WebhookDeliveryStatus } from '@app/db';
import { deliveryOutcomes } from '@app/metrics';
import { SecretBox } from '@app/shared';
import { retryDelay, verdictOf } from './retry-policy';
import { signWebhook } from './signer';
import { WebhookSender } from './webhook-sender';
import { AttemptRecorder } from './attempt-recorder';
import { WebhooksRepository } from './webhooks.repository';

export type AttemptRow = NonNullable<Awaited<ReturnType<WebhooksRepository['loadForAttempt']>>>;
import type { Slot } from './endpoint-lanes';
import { attemptDuration, firstAttemptLag } from './webhook-metrics';

/** For callers outside a lane: no per-endpoint limit. */
const NO_LIMIT: Slot = { acquire: () => Promise.resolve(), release: () => undefined };

export type AttemptResult =
  /** Nothing more to do for this job: succeeded, failed, exhausted, or no longer pending. */
  | { kind: 'done'; status: WebhookDeliveryStatus | 'gone' | 'skipped' }
  /** Pending: the next attempt is due at `at`. */
  | { kind: 'later'; at: Date };

/** A job may arrive a little before its time (clock skew, promotion granularity). */
const EARLY_TOLERANCE_MS = 1_000;

/**
 * One delivery attempt, start to end: read the delivery (Postgres is the truth), sign, POST,
 * record the attempt and decide what comes next. Knows nothing of BullMQ.
 */
@Injectable()
export class DeliveryAttempts implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryAttempts.name);
  private readonly secretCache = new Map<string, string>();

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly recorder: AttemptRecorder,
    private readonly sender: WebhookSender,
    private readonly box: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * `slot` is held for the request alone: reading and recording do not count against the
   * endpoint. `loaded` spares the read when the caller has just read the delivery.
   */
  async attempt(deliveryId: string, slot: Slot = NO_LIMIT, loaded?: AttemptRow): Promise<AttemptResult> {
    const d = loaded ?? (await this.repository.loadForAttempt(deliveryId));
    if (!d || d.status !== 'pending') {
      // Deleted with its endpoint, or already settled (a duplicate job after a crash or a flush).
      return { kind: 'done', status: 'skipped' };
    }
    if (d.endpoint_status !== 'enabled') {
      await this.repository.failWithoutAttempt(deliveryId, `endpoint disabled: ${d.disabled_reason ?? 'by an admin'}`);
      return { kind: 'done', status: 'failed' };
    }
    if (d.next_attempt_at && d.next_attempt_at.getTime() > Date.now() + EARLY_TOLERANCE_MS) {
      return { kind: 'later', at: d.next_attempt_at };
    }

    const secrets = this.secretsOf(d);
    await slot.acquire();
    const at = new Date();
    let sent;
    try {
      const headers = signWebhook(secrets, d.message_id, Math.floor(at.getTime() / 1000), d.payload);
      sent = await this.sender.send(d.url, headers, d.payload);
    } finally {
      slot.release();
    }
    if (d.attempts === 0) {
      firstAttemptLag.observe(Math.max(0, at.getTime() - d.created_at.getTime()) / 1000);
    }
    attemptDuration.observe(sent.durationMs / 1000);

    const verdict = verdictOf(sent);
    const retry = verdict.kind === 'retry' ? retryDelay(this.config.webhookRetryScheduleMs, d.round_attempts + 1, verdict.retryAfterMs) : null;
    const status: WebhookDeliveryStatus =
      verdict.kind === 'succeeded' ? 'succeeded' : verdict.kind === 'retry' ? (retry === null ? 'exhausted' : 'pending') : 'failed';
    const nextAttemptAt = retry === null ? null : new Date(Date.now() + retry);
    const failingSince = await this.recorder.record({
      deliveryId,
      endpointId: d.endpoint_id,
      at,
      statusCode: sent.statusCode,
      durationMs: sent.durationMs,
      error: sent.error ?? (verdict.kind === 'succeeded' ? null : `http_${sent.statusCode}`),
      responseExcerpt: sent.responseExcerpt ?? sent.detail,
      status,
      nextAttemptAt,
      succeeded: verdict.kind === 'succeeded',
    });
    deliveryOutcomes.inc({ outcome: verdict.kind === 'retry' ? (retry === null ? 'exhausted' : 'retry') : verdict.kind });

    if (verdict.kind === 'gone') {
      await this.disable(d.endpoint_id, `the endpoint answered 410 Gone at ${at.toISOString()}`);
      return { kind: 'done', status: 'gone' };
    }
    if (verdict.kind !== 'succeeded') {
      await this.disableIfFailingTooLong(d.endpoint_id, failingSince);
    }
    return nextAttemptAt ? { kind: 'later', at: nextAttemptAt } : { kind: 'done', status };
  }

  async onApplicationShutdown() {
    await this.sender.close();
  }

  private secretsOf(d: {
    endpoint_id: string;
    secret_ciphertext: string;
    previous_secret_ciphertext: string | null;
    previous_secret_expires_at: Date | null;
  }): string[] {
    const secrets = [this.open(d.endpoint_id, d.secret_ciphertext)];
    if (d.previous_secret_ciphertext && d.previous_secret_expires_at && d.previous_secret_expires_at.getTime() > Date.now()) {
      secrets.push(this.open(d.endpoint_id, d.previous_secret_ciphertext));
    }
    return secrets;
  }

  /** Decrypting is cheap but not free at a thousand attempts a second; ciphertexts never change meaning. */
  private open(endpointId: string, sealed: string): string {
    let plain = this.secretCache.get(sealed);
    if (plain === undefined) {
      plain = this.box.open(sealed, endpointId);
      if (this.secretCache.size > 10_000) {
        this.secretCache.clear();
      }
      this.secretCache.set(sealed, plain);
    }
    return plain;
  }

  private async disableIfFailingTooLong(endpointId: string, failingSince: Date | null) {
    const limitMs = this.config.webhookDisableAfterDays * 86_400_000;
    if (failingSince && Date.now() - failingSince.getTime() >= limitMs) {
      await this.disable(
        endpointId,
        `every delivery failed since ${failingSince.toISOString()} (${this.config.webhookDisableAfterDays} days or more)`,
      );
    }
  }

  private async disable(endpointId: string, reason: string) {
    await this.repository.disableEndpoint(endpointId, reason);
    this.logger.warn({ endpointId, reason }, 'webhook endpoint disabled');
  }
}
