/** What the event-store and peer suites append: one event shape, the raw baseline's INSERT, stream versions. */
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '@app/event-store';

export const ACTOR = { id: randomUUID(), name: 'bench curator' };

export const benchEvent = (n: number): NewEvent => ({
  type: 'MembershipJoined',
  data: {
    organisationId: `org-${n % 5000}`,
    allianceId: 'ai-alliance',
    on: '2024-06-15',
    precision: 'day',
    source: { url: 'https://thealliance.ai/members', note: 'published member list' },
  },
  metadata: { actor: ACTOR, correlationId: randomUUID() },
});

const COLUMNS = '(stream_id, stream_version, event_id, type, schema_version, data, metadata)';

/** Multi-row VALUES for the raw baseline: the events a writer would append, versions included. */
export function rawInsert(rows: Array<{ stream: string; version: number; event: NewEvent }>, table = 'raw_events') {
  const params: unknown[] = [];
  const tuples = rows.map(({ stream, version, event }) => {
    const base = params.length;
    params.push(stream, version, randomUUID(), event.type, 1, JSON.stringify(event.data), JSON.stringify(event.metadata));
    return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}::jsonb, $${base + 7}::jsonb)`;
  });
  return { text: `INSERT INTO ${table} ${COLUMNS} VALUES ${tuples.join(', ')}`, params };
}

/** Per-writer streams and their versions, so that every append states an exact expected version. */
export class Streams {
  private readonly versions = new Map<string, number>();
  constructor(private readonly prefix: string) {}

  name(worker: number, k: number) {
    return `${this.prefix}-${worker}-${k}`;
  }

  /** The stream's version before this write, and records the write of `count` events. */
  advance(stream: string, count: number): number {
    const before = this.versions.get(stream) ?? 0;
    this.versions.set(stream, before + count);
    return before;
  }
}
