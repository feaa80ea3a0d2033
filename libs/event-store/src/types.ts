export type ExpectedVersion = number | 'no-stream' | 'any';

export interface NewEvent<T extends string = string, D = unknown> {
  /** Supply a deterministic id to make a re-append idempotent; random otherwise. */
  id?: string;
  type: T;
  data: D;
  metadata?: Record<string, unknown>;
  schemaVersion?: number;
}

export interface RecordedEvent<T extends string = string, D = unknown> {
  id: string;
  streamId: string;
  version: number;
  /** Global position, a decimal string (int8). */
  position: string;
  /** The xid8 of the writing transaction, a decimal string. */
  transactionId: string;
  type: T;
  schemaVersion: number;
  data: D;
  metadata: Record<string, unknown>;
  recordedAt: Date;
}

export interface AppendResult {
  streamId: string;
  nextExpectedVersion: number;
  events: RecordedEvent[];
  /** True when every event was already recorded at these positions and nothing was written. */
  alreadyRecorded: boolean;
}

export interface AppendRequest {
  streamId: string;
  events: NewEvent[];
  expectedVersion: ExpectedVersion;
}
