/**
 * Issue 4: recording a join over HTTP (auth, validation, decider, append, inline projections,
 * JSON response) at 32 connections, next to the event store's own append rate at 32
 * connections in the same run (the same kind of event, exact expected version, no HTTP).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { ApiKeysRepository } from '@app/access';
import { loadConfig } from '@app/config';
import { createDatabase, createPool } from '@app/db';
import { EventStore } from '@app/event-store';
import { createApi } from '../../apps/api/src/bootstrap';
import { BenchContext, percentile, Result, round, timeBox } from '../lib';

const CONNECTIONS = 32;
const ORGANISATIONS = 20_000;
const source = { url: 'https://thealliance.ai/members' };

export async function run(ctx: BenchContext): Promise<Result[]> {
  const config = loadConfig({
    DATABASE_URL: ctx.databaseUrl,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    REDIS_PREFIX: `bench-${process.pid}`,
  });
  const app = await createApi(config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const key = (await app.get(ApiKeysRepository).create('bench curator', 'curator')).key;
  const http = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS, pipelining: 1 });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const res = await http.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 201) {
      throw new Error(`POST ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
    }
    return text;
  };

  const pool = createPool(ctx.databaseUrl, { max: CONNECTIONS });
  const store = new EventStore(createDatabase(pool));
  try {
    ctx.log(`registering an alliance and ${ORGANISATIONS} organisations through /imports`);
    await post('/alliances', { id: 'ai-alliance', name: 'AI Alliance' });
    for (let i = 0; i < ORGANISATIONS; i += 1000) {
      const facts = Array.from({ length: 1000 }, (_, k) => ({ fact: 'organisation', id: `org-${i + k}`, name: `Organisation ${i + k}` }));
      await post('/imports', { facts });
    }

    ctx.log(`raw: EventStore.append at ${CONNECTIONS} connections`);
    const raw = await timeBox(CONNECTIONS, ctx.seconds, async () => {
      await store.append(
        `bench-${randomUUID()}`,
        [{ type: 'MemberJoined', data: { allianceId: 'ai-alliance', organisationId: 'x', on: '2024-06-15', precision: 'day', source } }],
        { expectedVersion: 'no-stream' },
      );
      return 1;
    });

    ctx.log(`HTTP POST /alliances/:id/members at ${CONNECTIONS} connections`);
    let next = 0;
    const latencies: number[] = [];
    const joins = await timeBox(CONNECTIONS, ctx.seconds, async () => {
      const n = next++;
      if (n >= ORGANISATIONS) {
        throw new Error('ran out of organisations: raise ORGANISATIONS');
      }
      const started = performance.now();
      await post('/alliances/ai-alliance/members', { organisationId: `org-${n}`, on: '2023-12-05', source });
      latencies.push(performance.now() - started);
      return 1;
    });
    latencies.sort((a, b) => a - b);
    const ratio = joins.rate / raw.rate;
    const p99 = percentile(latencies, 99);
    return [
      {
        name: `HTTP record-join, ${CONNECTIONS} connections`,
        value: round(joins.rate, 0),
        unit: 'req/s',
        baseline: { name: `EventStore.append, ${CONNECTIONS} connections`, value: round(raw.rate, 0) },
        ratio: round(ratio, 3),
        target: '>= 25% of the raw append rate',
        met: ratio >= 0.25,
        detail: { requests: joins.operations, rawAppends: raw.operations },
      },
      { name: 'HTTP record-join latency p50', value: round(percentile(latencies, 50)), unit: 'ms' },
      { name: 'HTTP record-join latency p99', value: round(p99), unit: 'ms', target: '< 50 ms', met: p99 < 50 },
    ];
  } finally {
    await http.close();
    await app.close();
    await pool.end();
  }
}
