/** Queue and job names are stored in Redis: their values never change. */
export enum WebhookQueue {
  Deliveries = 'webhook-deliveries',
}

export enum WebhookJob {
  Deliver = 'webhook.deliver',
}

export interface DeliverJobData {
  deliveryId: string;
  /** The lane the attempt waits in; routing needs no database read. */
  endpointId: string;
  /** A first attempt from the log: these start in log order per endpoint. */
  first: boolean;
  /** The delivery's seq and that of the endpoint's previous delivery from the log (decimal strings). */
  seq?: string;
  prevSeq?: string | null;
}

/** A job's payload follows from its name. */
export type WebhookJobPayload = { name: WebhookJob.Deliver; data: DeliverJobData };
