import { EndpointLanes } from './endpoint-lanes';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('EndpointLanes', () => {
  it('runs at most perEndpoint tasks of one endpoint at a time, in submission order', async () => {
    const lanes = new EndpointLanes({ perEndpoint: 2, maxWaiting: 100, maxWaitingPerEndpoint: 100 });
    const started: number[] = [];
    const gates = Array.from({ length: 6 }, deferred);
    const done = gates.map((gate, i) => {
      const a = lanes.submit('e1', `j${i}`, true, async () => {
        started.push(i);
        await gate.promise;
        return i;
      });
      expect(a.kind).toBe('run');
      return a.kind === 'run' ? a.done : null;
    });
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    await done[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    await Promise.all(done);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(lanes.stats()).toEqual({ lanes: 0, active: 0, waiting: 0, parked: 0 });
  });

  it('parks what does not fit, so a slow endpoint cannot take the slots of others', () => {
    const lanes = new EndpointLanes({ perEndpoint: 1, maxWaiting: 2, maxWaitingPerEndpoint: 2 });
    const never = () => new Promise<void>(() => undefined);
    expect(lanes.submit('slow', 'a', false, never).kind).toBe('run');
    expect(lanes.submit('slow', 'b', false, never).kind).toBe('run');
    expect(lanes.submit('slow', 'c', false, never).kind).toBe('run');
    expect(lanes.submit('slow', 'd', false, never).kind).toBe('park');
    // Another endpoint still runs at once: its first slot is not a waiting slot.
    expect(lanes.submit('fast', 'x', false, never).kind).toBe('run');
    expect(lanes.stats()).toMatchObject({ active: 2, waiting: 2, parked: 1 });
  });

  it('keeps first attempts in order across parking', async () => {
    let now = 1_000;
    const lanes = new EndpointLanes({ perEndpoint: 1, maxWaiting: 0, maxWaitingPerEndpoint: 0, now: () => now });
    const gate = deferred();
    const first = lanes.submit('e', 'j1', true, () => gate.promise);
    expect(first.kind).toBe('run');
    const p2 = lanes.submit('e', 'j2', true, async () => undefined);
    const p3 = lanes.submit('e', 'j3', true, async () => undefined);
    expect(p2.kind).toBe('park');
    expect(p3.kind).toBe('park');
    const until2 = p2.kind === 'park' ? p2.until : 0;
    const until3 = p3.kind === 'park' ? p3.until : 0;
    expect(until3).toBeGreaterThan(until2);
    gate.resolve();
    await (first.kind === 'run' ? first.done : null);
    // j4 is new and there is room now, but j2 and j3 were parked first: it queues behind them.
    now += 10;
    expect(lanes.submit('e', 'j4', true, async () => undefined).kind).toBe('park');
    // j3 comes back before j2 (it cannot, but if it did): it must not overtake j2.
    expect(lanes.submit('e', 'j3', true, async () => undefined).kind).toBe('park');
    const j2 = lanes.submit('e', 'j2', true, async () => undefined);
    expect(j2.kind).toBe('run');
    await (j2.kind === 'run' ? j2.done : null);
    expect(lanes.submit('e', 'j3', true, async () => undefined).kind).toBe('run');
  });

  it('does not hold retries behind parked first attempts', () => {
    const lanes = new EndpointLanes({ perEndpoint: 1, maxWaiting: 0, maxWaitingPerEndpoint: 0 });
    const never = () => new Promise<void>(() => undefined);
    lanes.submit('e', 'a', true, never);
    expect(lanes.submit('e', 'b', true, never).kind).toBe('park');
    expect(lanes.submit('other', 'r', false, never).kind).toBe('run');
  });

  it('forgets parked jobs that never come back (Redis lost them)', () => {
    let now = 0;
    const lanes = new EndpointLanes({
      perEndpoint: 1,
      maxWaiting: 0,
      maxWaitingPerEndpoint: 0,
      parkedForgetMs: 1_000,
      now: () => now,
    });
    const gate = deferred();
    const a = lanes.submit('e', 'a', true, () => gate.promise);
    expect(lanes.submit('e', 'lost', true, async () => undefined).kind).toBe('park');
    gate.resolve();
    return (a.kind === 'run' ? a.done : Promise.resolve()).then(() => {
      now = 60_000;
      expect(lanes.submit('e', 'b', true, async () => undefined).kind).toBe('run');
    });
  });
});
