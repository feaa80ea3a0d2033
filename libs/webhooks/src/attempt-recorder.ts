import { Injectable } from '@nestjs/common';
import { AttemptRecord, WebhooksRepository } from './webhooks.repository';

const MAX_BATCH = 500;

interface Pending {
  record: AttemptRecord;
  resolve: (failingSince: Date | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for attempt results: everything recorded while the previous write is on its way
 * goes out in the next single statement. Under load that is one round trip for dozens of
 * attempts; when idle, a record leaves on the next turn of the event loop.
 */
@Injectable()
export class AttemptRecorder {
  private buffer: Pending[] = [];
  private writing = false;
  private scheduled = false;

  constructor(private readonly repository: WebhooksRepository) {}

  /** Resolves once written, with the endpoint's `failing_since` from before this batch. */
  record(record: AttemptRecord): Promise<Date | null> {
    return new Promise((resolve, reject) => {
      this.buffer.push({ record, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (!this.writing && !this.scheduled && this.buffer.length > 0) {
      this.scheduled = true;
      setImmediate(() => void this.write());
    }
  }

  private async write() {
    this.scheduled = false;
    this.writing = true;
    // One attempt per delivery and statement: a second one waits for the next batch.
    const seen = new Set<string>();
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.buffer) {
      if (batch.length < MAX_BATCH && !seen.has(p.record.deliveryId)) {
        seen.add(p.record.deliveryId);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.buffer = rest;
    try {
      await this.writeBatch(batch);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }

  private async writeBatch(batch: Pending[]) {
    try {
      const failingSince = await this.repository.recordAttempts(batch.map((p) => p.record));
      batch.forEach((p) => p.resolve(failingSince.get(p.record.endpointId) ?? null));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // One bad record must not fail the others: each on its own.
      for (const p of batch) {
        await this.writeBatch([p]);
      }
    }
  }
}
