import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import { sql } from 'kysely';
import { DATABASE, Database } from '@app/db';
import { EventStore } from '@app/event-store';
import { RecordJoinCommand, RecordJoinDto } from '@app/membership';
import { registry } from '@app/metrics';
import { CommandMeta, DomainError, Recorder } from '@app/shared';
import { createTestApp, TestApp } from '../support/test-app';

const src = { url: 'https://example.org/members' };

/**
 * Group commit: requests that reach the Recorder in one turn of the event loop are recorded in
 * one transaction. Each must still get the answer it would have got alone, and nothing of a
 * failed request may be kept.
 */
describe('write batches', () => {
  let a: TestApp;
  let bus: CommandBus;
  let recorder: Recorder;
  let store: EventStore;
  let db: Database;

  const meta = (key?: string, requestHash = 'h'): CommandMeta => ({
    actor: { id: 'batch-test-key', name: 'batch test', role: 'curator' },
    correlationId: randomUUID(),
    ...(key ? { idempotency: { key, requestHash, method: 'POST', path: '/alliances/ai-alliance/members' } } : {}),
  });
  const join = (organisationId: string, on = '2024-01-01', m = meta()) =>
    bus.execute<RecordJoinCommand, { event: { id: string; data: { organisationId: string } } }>(
      new RecordJoinCommand('ai-alliance', { organisationId, on, source: src } as RecordJoinDto, m),
    );
  const transactions = async (eventIds: string[]) =>
    (
      await sql<{ transaction_id: string }>`
        SELECT DISTINCT transaction_id::text FROM events WHERE event_id = ANY(${eventIds}::uuid[])`.execute(db)
    ).rows.map((r) => r.transaction_id);
  const organisations = async (ids: string[]) => {
    await a
      .as('curator')
      .post('/imports')
      .send({ facts: ids.map((id) => ({ fact: 'organisation', id, name: `Org ${id}` })) })
      .expect(201);
  };
  const value = <T>(r: PromiseSettledResult<T>) => {
    if (r.status !== 'fulfilled') {
      throw r.reason;
    }
    return r.value;
  };
  const reason = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as Error) : null);

  beforeAll(async () => {
    a = await createTestApp();
    bus = a.app.get(CommandBus);
    recorder = a.app.get(Recorder);
    store = a.app.get(EventStore);
    db = a.app.get(DATABASE);
    await a.as('curator').post('/alliances').send({ id: 'ai-alliance', name: 'AI Alliance' }).expect(201);
  });
  afterAll(() => a.close());

  it('records requests that arrive together in one transaction, each with its own answer', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `b${i}`);
    await organisations(ids);
    const before = await batchCount();

    const results = await Promise.all(ids.map((id) => join(id)));

    expect(results.map((r) => r.event.data.organisationId)).toEqual(ids);
    expect(new Set(results.map((r) => r.event.id)).size).toBe(10);
    expect(await transactions(results.map((r) => r.event.id))).toHaveLength(1);
    expect((await batchCount()) - before).toBe(1);
    const members = await a.as('reader').get('/alliances/ai-alliance/members?at=2024-06-01&limit=100').expect(200);
    expect(members.body.members.map((m: { organisationId: string }) => m.organisationId)).toEqual(expect.arrayContaining(ids));
  });

  it('answers a refusal alone and commits the rest of the batch', async () => {
    await organisations(['c1', 'c2', 'c3']);
    await join('c2', '2023-01-01');

    const results = await Promise.allSettled([join('c1'), join('nobody'), join('c2'), join('c3')]);

    expect(reason(results[1])).toBeInstanceOf(DomainError);
    expect((reason(results[1]) as DomainError).status).toBe(404);
    expect((reason(results[2]) as DomainError).status).toBe(409);
    expect(reason(results[2])!.message).toMatch(/^c2 is already a member of ai-alliance/);
    const committed = [value(results[0]), value(results[3])].map((r) => r.event.id);
    expect(await transactions(committed)).toHaveLength(1);
    expect(await store.readStream('membership-ai-alliance.nobody')).toEqual([]);
  });

  it('redoes a batch one request at a time when two of its requests write one stream', async () => {
    await organisations(['d1', 'd2']);

    const results = await Promise.allSettled([join('d1'), join('d1'), join('d2')]);

    const statuses = results.map((r) => (r.status === 'fulfilled' ? 201 : (r.reason as DomainError).status));
    expect(statuses.slice(0, 2).sort()).toEqual([201, 409]);
    expect(statuses[2]).toBe(201);
    expect(await store.readStream('membership-ai-alliance.d1')).toHaveLength(1);
    expect(await store.readStream('membership-ai-alliance.d2')).toHaveLength(1);
  });

  it('keeps nothing of a request that fails after appending, and still records the others', async () => {
    const appendThen = (stream: string, failure: Error | null) =>
      recorder.execute(meta(), async (ctx) => {
        const [event] = await ctx.append(stream, [{ type: 'BatchTestHappened', data: { stream } }], 'no-stream');
        if (failure) {
          throw failure;
        }
        return { id: event.id };
      });

    const results = await Promise.allSettled([
      appendThen('batch-test-ok-1', null),
      appendThen('batch-test-boom', new Error('boom')),
      appendThen('batch-test-refused', new DomainError(409, 'refused after appending')),
      appendThen('batch-test-ok-2', null),
    ]);

    expect(reason(results[1])!.message).toBe('boom');
    expect((reason(results[2]) as DomainError).status).toBe(409);
    expect(await store.readStream('batch-test-boom')).toEqual([]);
    expect(await store.readStream('batch-test-refused')).toEqual([]);
    expect(await store.readStream('batch-test-ok-1')).toHaveLength(1);
    expect(await store.readStream('batch-test-ok-2')).toHaveLength(1);
    expect(value(results[0]).id).toBe((await store.readStream('batch-test-ok-1'))[0].id);
  });

  it('records a keyed request once when its replay arrives in the same batch, and answers both alike', async () => {
    await organisations(['e1', 'e2', 'e3']);
    const key = `k-${randomUUID()}`;

    const results = await Promise.allSettled([
      join('e1', '2024-01-01', meta(key)),
      join('e1', '2024-01-01', meta(key)),
      join('e2', '2024-01-01', meta(`other-${key}`)),
    ]);
    // After them, so that it is the one that comes second: requests racing with one key commit
    // in the order they get its lock, not the order they arrived (see the next test).
    const different = (await Promise.allSettled([join('e3', '2024-01-01', meta(key, 'a different request'))]))[0];

    const [first, replay, other] = results.map(value);
    expect(replay).toEqual(first);
    expect(await store.readStream('membership-ai-alliance.e1')).toHaveLength(1);
    expect(other.event.data.organisationId).toBe('e2');
    expect((reason(different) as DomainError).status).toBe(409);
    expect(reason(different)!.message).toMatch(/already used with a different request/);
    expect(await store.readStream('membership-ai-alliance.e3')).toEqual([]);
    const stored = await db.selectFrom('idempotency_keys').select(['key', 'status']).where('api_key_id', '=', 'batch-test-key').execute();
    expect(stored.map((s) => s.key).sort()).toEqual([key, `other-${key}`].sort());
  });

  it('keeps two requests with one Idempotency-Key apart, whatever their works read', async () => {
    const key = `k-${randomUUID()}`;
    const stream = `batch-test-${randomUUID()}`;
    const write = (who: string, hash: string, extraRead: boolean) =>
      recorder.execute(meta(key, hash), async (ctx) => {
        const history = await ctx.readStream(stream);
        if (extraRead) {
          await ctx.readStream(`${stream}-other`);
        }
        const [event] = await ctx.append(stream, [{ type: 'BatchTestHappened', data: { who } }], history.length || 'no-stream');
        return { who, id: event.id };
      });

    const results = await Promise.allSettled([write('first', 'body-1', false), write('second', 'body-2', true)]);

    // They run in two transactions that race for the key's lock: either may win, never both.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    const winner = value(results[won]).who;
    const lost = reason(results[1 - won]) as DomainError;
    expect(lost.status).toBe(409);
    expect(lost.message).toContain(`Idempotency-Key "${key}" was already used with a different request`);
    expect((await store.readStream(stream)).map((e) => e.data)).toEqual([{ who: winner }]);
  });

  it('gives each request its own copy of a stream it reads', async () => {
    const stream = `batch-test-${randomUUID()}`;
    await store.append(stream, [{ type: 'BatchTestHappened', data: {} }], { expectedVersion: 'no-stream' });
    const read = (mutate: boolean) =>
      recorder.execute(meta(), async (ctx) => {
        const history = await ctx.readStream(stream);
        if (mutate) {
          history.pop();
        }
        await Promise.resolve();
        return { seen: history.length };
      });

    const [mutated, other] = await Promise.all([read(true), read(false)]);

    expect(mutated.seen).toBe(0);
    expect(other.seen).toBe(1);
  });
});

/** How many batches (of two or more requests, or alone) the Recorder has run in this process. */
async function batchCount(): Promise<number> {
  const metric = await registry.getSingleMetric('write_batch_requests')!.get();
  return metric.values.find((v) => (v as { metricName?: string }).metricName === 'write_batch_requests_count')!.value;
}
