import { Admission, EndpointLanes, LaneOptions } from './endpoint-lanes';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const never = () => new Promise<void>(() => undefined);
const instant = async () => undefined;
const done = <T>(a: Admission<T>) => (a.kind === 'run' ? a.done : Promise.reject(new Error(`parked until ${a.until}`)));
const tick = () => new Promise((r) => setImmediate(r));

describe('EndpointLanes', () => {
  const lanes = (options: Partial<LaneOptions> = {}) =>
    new EndpointLanes({ perEndpoint: 1, maxWaiting: 100, maxWaitingPerEndpoint: 100, ...options });

  it('runs at most perEndpoint tasks of one endpoint at a time, in submission order', async () => {
    const l = lanes({ perEndpoint: 2 });
    const started: number[] = [];
    const gates = Array.from({ length: 6 }, deferred);
    const runs = gates.map((gate, i) =>
      done(
        l.submit('e1', `j${i}`, async () => {
          started.push(i);
          await gate.promise;
        }),
      ),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    await runs[1];
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(l.stats()).toEqual({ lanes: 0, active: 0, waiting: 0, parked: 0, blocked: 0 });
  });

  it('parks what does not fit, so a slow endpoint cannot take the slots of others', () => {
    const l = lanes({ maxWaiting: 2, maxWaitingPerEndpoint: 2 });
    expect(l.submit('slow', 'a', never).kind).toBe('run');
    expect(l.submit('slow', 'b', never).kind).toBe('run');
    expect(l.submit('slow', 'c', never).kind).toBe('run');
    expect(l.submit('slow', 'd', never).kind).toBe('park');
    expect(l.submit('fast', 'x', never).kind).toBe('run');
    expect(l.stats()).toMatchObject({ active: 2, waiting: 2, parked: 1 });
  });

  it('holds a first attempt that arrives before its predecessor until the predecessor starts', async () => {
    const l = lanes({ predecessorSettled: async () => false });
    const started: string[] = [];
    const task = (name: string) => async () => {
      started.push(name);
    };
    const second = l.submitInOrder('e', 'j2', { seq: 2n, prevSeq: 1n }, task('j2'));
    await tick();
    expect(started).toEqual([]);
    const first = await l.submitInOrder('e', 'j1', { seq: 1n, prevSeq: null }, task('j1'));
    await done(first);
    await done(await second);
    expect(started).toEqual(['j1', 'j2']);
  });

  it('does not wait for a predecessor that Postgres says is settled (after a restart)', async () => {
    const asked: bigint[] = [];
    const l = lanes({
      predecessorSettled: async (seq) => {
        asked.push(seq);
        return true;
      },
    });
    await done(await l.submitInOrder('e', 'j9', { seq: 9n, prevSeq: 8n }, instant));
    expect(asked).toEqual([8n]);
    // Once seq 9 entered, 10 follows without asking.
    await done(await l.submitInOrder('e', 'j10', { seq: 10n, prevSeq: 9n }, instant));
    expect(asked).toEqual([8n]);
  });

  it('goes anyway when the predecessor never turns up', async () => {
    const l = lanes({ predecessorWaitMs: 30, predecessorSettled: async () => false });
    const admission = await l.submitInOrder('e', 'j5', { seq: 5n, prevSeq: 4n }, instant);
    expect(admission.kind).toBe('run');
  });

  it('parks a first attempt behind an earlier parked one and keeps the order when they come back', async () => {
    let now = 1_000;
    const l = lanes({ maxWaiting: 0, maxWaitingPerEndpoint: 0, now: () => now });
    const gate = deferred();
    const a1 = await l.submitInOrder('e', 'j1', { seq: 1n, prevSeq: null }, () => gate.promise);
    expect(a1.kind).toBe('run');
    const p2 = await l.submitInOrder('e', 'j2', { seq: 2n, prevSeq: 1n }, instant);
    const p3 = await l.submitInOrder('e', 'j3', { seq: 3n, prevSeq: 2n }, instant);
    expect(p2.kind).toBe('park');
    expect(p3.kind).toBe('park');
    gate.resolve();
    await done(a1);
    now += 10;
    // A new first attempt finds the lane free but j2 and j3 parked ahead of it.
    expect((await l.submitInOrder('e', 'j4', { seq: 4n, prevSeq: 3n }, instant)).kind).toBe('park');
    // j3 back before j2 (BullMQ may swap them): it goes again, to return right after j2.
    const early = await l.submitInOrder('e', 'j3', { seq: 3n, prevSeq: 2n }, instant);
    expect(early.kind).toBe('park');
    const j2 = await l.submitInOrder('e', 'j2', { seq: 2n, prevSeq: 1n }, instant);
    expect(j2.kind).toBe('run');
    await done(j2);
    expect((await l.submitInOrder('e', 'j3', { seq: 3n, prevSeq: 2n }, instant)).kind).toBe('run');
  });

  it('a blocked first attempt follows its predecessor into the parked line', async () => {
    const l = lanes({ maxWaiting: 1, maxWaitingPerEndpoint: 0, predecessorSettled: async () => false });
    expect(l.submit('e', 'busy', never).kind).toBe('run');
    const second = l.submitInOrder('e', 'j2', { seq: 2n, prevSeq: 1n }, instant);
    await tick();
    const first = await l.submitInOrder('e', 'j1', { seq: 1n, prevSeq: null }, instant);
    expect(first.kind).toBe('park');
    const then = await second;
    expect(then.kind).toBe('park');
    expect(then.kind === 'park' && first.kind === 'park' && then.until > first.until).toBe(true);
  });

  it('does not hold retries behind parked first attempts', async () => {
    const l = lanes({ maxWaiting: 0, maxWaitingPerEndpoint: 0 });
    await l.submitInOrder('e', 'a', { seq: 1n, prevSeq: null }, never);
    expect((await l.submitInOrder('e', 'b', { seq: 2n, prevSeq: 1n }, never)).kind).toBe('park');
    expect(l.submit('other', 'r', never).kind).toBe('run');
  });

  it('forgets parked jobs that never come back (Redis lost them)', async () => {
    let now = 0;
    const l = lanes({ maxWaiting: 1, maxWaitingPerEndpoint: 0, parkedGraceMs: 1_000, predecessorWaitMs: 20, now: () => now });
    const gate = deferred();
    const a = await l.submitInOrder('e', 'a', { seq: 1n, prevSeq: null }, () => gate.promise);
    expect((await l.submitInOrder('e', 'lost', { seq: 2n, prevSeq: 1n }, instant)).kind).toBe('park');
    gate.resolve();
    await done(a);
    now = 120_000;
    // Its successor no longer parks behind it; it waits briefly for it, then goes.
    expect((await l.submitInOrder('e', 'b', { seq: 3n, prevSeq: 2n }, instant)).kind).toBe('run');
  });
});
