import { createTestApp, TestApp } from '../support/test-app';
import { checkHistory } from './support/check';
import { generateHistory } from './support/histories';
import { Api, listen } from './support/http';
import { Rng } from './support/model';

/**
 * Random histories through the curator API, every question compared with a plain model that
 * replays the accepted events. Many small histories share one database (each under its own
 * ids). QUESTIONS_SEED reproduces a run, QUESTIONS_HISTORIES sets how many.
 */
describe('questions against a model of the Time rules', () => {
  let a: TestApp;
  let api: Api;
  beforeAll(async () => {
    a = await createTestApp();
    api = await listen(a);
  });
  afterAll(async () => {
    await api.close();
    await a.close();
  });

  it('answers like the model for hundreds of random histories', async () => {
    const seed = Number(process.env.QUESTIONS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const histories = Number(process.env.QUESTIONS_HISTORIES ?? 300);
    const concurrency = 6;
    let next = 0;
    let compared = 0;
    const run = async (i: number) => {
      const historySeed = (seed + Math.imul(i, 0x9e3779b9)) >>> 0;
      const rng = new Rng(historySeed);
      try {
        const h = await generateHistory(api, rng, `h${i}`, { alliances: 2, organisations: 3, operations: 8 + rng.int(14) });
        const answers = await checkHistory(api, h, rng);
        compared += answers;
      } catch (error) {
        throw new Error(`QUESTIONS_SEED=${seed}, history h${i} (seed ${historySeed}): ${(error as Error).message}`);
      }
    };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < histories) {
          await run(next++);
        }
      }),
    );
    console.log(`questions model test: ${histories} histories, ${compared} answers compared (QUESTIONS_SEED=${seed})`);
    expect(compared).toBeGreaterThan(histories * 20);
  }, 180_000);
});
