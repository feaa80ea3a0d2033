import type { RecordedEvent } from '@app/event-store';

export interface EventView {
  id: string;
  type: string;
  streamId: string;
  version: number;
  position: string;
  recordedAt: string;
  data: unknown;
  recordedBy?: unknown;
}

/** The event object of the HTTP contract. */
export function eventView(e: RecordedEvent): EventView {
  return {
    id: e.id,
    type: e.type,
    streamId: e.streamId,
    version: e.version,
    position: e.position,
    recordedAt: e.recordedAt.toISOString(),
    data: e.data,
    recordedBy: (e.metadata as { actor?: unknown }).actor ?? null,
  };
}
