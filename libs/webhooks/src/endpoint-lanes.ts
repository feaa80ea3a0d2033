export interface LaneOptions {
  /** Attempts in flight to one endpoint. */
  perEndpoint: number;
  /** Jobs that may wait in this process, over all endpoints, before more are parked. */
  maxWaiting: number;
  /** Jobs that may wait in this process for one endpoint. */
  maxWaitingPerEndpoint: number;
  /** Longest park; a dead endpoint's backlog comes back at most this often. */
  maxParkMs?: number;
  /** A parked job not seen again within its park time plus this is forgotten (lost with Redis). */
  parkedForgetMs?: number;
  now?: () => number;
}

export type Admission<T> =
  /** The task runs now or as soon as the endpoint has a free slot; `done` settles with it. */
  | { kind: 'run'; done: Promise<T> }
  /** Not now: put the job back (BullMQ delayed) until this time; it keeps its place in line. */
  | { kind: 'park'; until: number };

interface Parked {
  first: boolean;
  forgetAt: number;
}

class Lane {
  constructor(readonly endpointId: string) {}

  active = 0;
  readonly waiting: Array<() => void> = [];
  /** Insertion order is the order the jobs must start in. */
  readonly parked = new Map<string, Parked>();
  lastParkUntil = 0;
  lastPurge = 0;
  avgMs = 50;

  oldestParkedFirst(): string | undefined {
    for (const [id, p] of this.parked) {
      if (p.first) {
        return id;
      }
    }
    return undefined;
  }

  hasParkedFirst(): boolean {
    return this.oldestParkedFirst() !== undefined;
  }

  idle(): boolean {
    return this.active === 0 && this.waiting.length === 0 && this.parked.size === 0;
  }
}

/**
 * Per-endpoint concurrency and ordering inside one worker process.
 *
 * BullMQ hands jobs over in queue order but knows nothing of endpoints. Each endpoint gets a
 * lane: at most `perEndpoint` attempts in flight, then a bounded FIFO of waiting jobs. A job
 * that would wait beyond the bounds is parked (moved back to BullMQ's delayed set) instead of
 * holding a worker slot, so a slow or dead endpoint can only ever hold a bounded share of the
 * slots and the other endpoints keep flowing.
 *
 * First attempts start in log order: once one first attempt of an endpoint is parked, later
 * first attempts of that endpoint are parked behind it (park times only grow), and a parked job
 * only runs when every first attempt parked before it has run. Retries are not ordered.
 */
export class EndpointLanes {
  private readonly lanes = new Map<string, Lane>();
  private totalWaiting = 0;
  private readonly now: () => number;
  private readonly maxParkMs: number;
  private readonly parkedForgetMs: number;

  constructor(private readonly options: LaneOptions) {
    this.now = options.now ?? Date.now;
    this.maxParkMs = options.maxParkMs ?? 30_000;
    this.parkedForgetMs = options.parkedForgetMs ?? 120_000;
  }

  /** Synchronous: the decision and, for `run`, the place in the lane are taken before returning. */
  submit<T>(endpointId: string, jobId: string, first: boolean, task: () => Promise<T>): Admission<T> {
    const lane = this.lane(endpointId);
    this.purge(lane);
    const returning = lane.parked.get(jobId);
    if (returning) {
      const blocked = returning.first && lane.oldestParkedFirst() !== jobId;
      if (blocked || !this.hasRoom(lane)) {
        return { kind: 'park', until: this.park(lane, jobId, returning.first) };
      }
      lane.parked.delete(jobId);
      return { kind: 'run', done: this.enter(lane, task) };
    }
    if ((first && lane.hasParkedFirst()) || !this.hasRoom(lane)) {
      return { kind: 'park', until: this.park(lane, jobId, first) };
    }
    return { kind: 'run', done: this.enter(lane, task) };
  }

  stats() {
    let active = 0;
    let parked = 0;
    for (const lane of this.lanes.values()) {
      active += lane.active;
      parked += lane.parked.size;
    }
    return { lanes: this.lanes.size, active, waiting: this.totalWaiting, parked };
  }

  private lane(endpointId: string): Lane {
    let lane = this.lanes.get(endpointId);
    if (!lane) {
      lane = new Lane(endpointId);
      this.lanes.set(endpointId, lane);
    }
    return lane;
  }

  private hasRoom(lane: Lane): boolean {
    if (lane.active < this.options.perEndpoint) {
      return true;
    }
    return lane.waiting.length < this.options.maxWaitingPerEndpoint && this.totalWaiting < this.options.maxWaiting;
  }

  private enter<T>(lane: Lane, task: () => Promise<T>): Promise<T> {
    if (lane.active < this.options.perEndpoint) {
      return this.start(lane, task);
    }
    this.totalWaiting++;
    return new Promise<T>((resolve, reject) => {
      lane.waiting.push(() => {
        this.totalWaiting--;
        this.start(lane, task).then(resolve, reject);
      });
    });
  }

  private start<T>(lane: Lane, task: () => Promise<T>): Promise<T> {
    lane.active++;
    const began = this.now();
    const run = (async () => task())();
    return run.finally(() => {
      lane.active--;
      lane.avgMs = 0.8 * lane.avgMs + 0.2 * Math.max(1, this.now() - began);
      while (lane.active < this.options.perEndpoint && lane.waiting.length > 0) {
        lane.waiting.shift()!();
      }
      this.dropIfIdle(lane);
    });
  }

  /** Park times only grow within a lane, so parked jobs come back in the order they left. */
  private park(lane: Lane, jobId: string, first: boolean): number {
    const ahead = lane.waiting.length + lane.parked.size;
    const estimate = ((ahead + 1) / this.options.perEndpoint + 1) * lane.avgMs;
    const now = this.now();
    const until = Math.max(now + Math.min(Math.max(estimate, 5), this.maxParkMs), lane.lastParkUntil + 1);
    lane.lastParkUntil = until;
    // Keeps an existing entry's position: a job that comes back too early stays first in line.
    lane.parked.set(jobId, { first, forgetAt: until + this.parkedForgetMs });
    return until;
  }

  private purge(lane: Lane) {
    const now = this.now();
    if (lane.parked.size === 0 || now - lane.lastPurge < 1000) {
      return;
    }
    lane.lastPurge = now;
    for (const [id, p] of lane.parked) {
      if (p.forgetAt < now) {
        lane.parked.delete(id);
      }
    }
  }

  private dropIfIdle(lane: Lane) {
    if (lane.idle()) {
      this.lanes.delete(lane.endpointId);
    }
  }
}
