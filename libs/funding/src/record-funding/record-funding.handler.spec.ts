import { deterministicId, RecordContext, WriteBatch } from '@app/shared';
import { newFundingId } from './record-funding.handler';

// A request's context as the Recorder builds it; nothing here touches the database.
const ctx = (key?: string): RecordContext =>
  new WriteBatch({} as never, {} as never, {} as never, 1).context(0, {
    actor: { id: 'key-1', name: 'curator', role: 'curator' },
    correlationId: 'c',
    ...(key ? { idempotency: { key, requestHash: 'h', method: 'POST', path: '/fundings' } } : {}),
  });

describe('newFundingId', () => {
  it('is random without an Idempotency-Key', () => {
    const c = ctx();
    expect(newFundingId(c)).not.toBe(newFundingId(c));
  });

  it('derives from the actor and key, counting the fundings of one attempt of one request', () => {
    const first = ctx('k');
    const ids = [newFundingId(first), newFundingId(first)];
    expect(ids).toEqual([deterministicId('funding\nkey-1\nk\n0'), deterministicId('funding\nkey-1\nk\n1')]);
    // A retry is a new attempt (a new context) and derives the same ids again.
    expect(newFundingId(ctx('k'))).toBe(ids[0]);
    expect(newFundingId(ctx('other'))).not.toBe(ids[0]);
  });
});
