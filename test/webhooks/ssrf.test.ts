import type { INestApplicationContext } from '@nestjs/common';
import { createTestApp, TestApp } from '../support/test-app';
import { Receiver } from './support/receiver';
import { append, deletePrefixKeys, eventually, joined, startWorker, WEBHOOK_TEST_ENV } from './support/webhook-harness';

describe('SSRF guard', () => {
  describe('at creation, with no allow-list', () => {
    let a: TestApp;
    beforeAll(async () => {
      a = await createTestApp({ WEBHOOK_ALLOWED_CIDRS: '' });
    });
    afterAll(async () => {
      await a.close();
      await deletePrefixKeys(a.config.redisPrefix);
    });

    it.each([
      ['http://localhost:8080/hook', /host localhost resolves to (127\.0\.0\.1|::1), a(n unspecified,)? loopback/],
      ['http://127.0.0.1/hook', /loopback/],
      ['http://127.1.2.3:9000/hook', /loopback/],
      ['http://10.0.0.8/hook', /private/],
      ['http://172.20.1.1/hook', /private/],
      ['http://192.168.178.1/hook', /private/],
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
      ['http://169.254.1.1/', /link-local/],
      ['http://100.64.12.1/', /carrier-grade NAT/],
      ['http://0.0.0.0:3000/', /this network/],
      ['http://[::1]:8080/hook', /loopback/],
      ['http://[::]/hook', /unspecified/],
      ['http://[fe80::1]/hook', /link-local IPv6/],
      ['http://[fd00:ec2::254]/latest', /unique-local/],
      ['http://[::ffff:127.0.0.1]/hook', /loopback.*embedded in IPv6/],
      ['http://[::ffff:a9fe:a9fe]/hook', /cloud metadata.*embedded in IPv6/],
      ['http://[64:ff9b::a00:1]/hook', /private.*embedded in IPv6/],
      ['gopher://127.0.0.1/', /http or https/],
      ['file:///etc/passwd', /http or https/],
    ])('refuses %s', async (url, reason) => {
      const res = await a.as('admin').post('/webhooks').send({ url }).expect(400);
      expect(res.body).toMatchObject({ status: 400, errors: [{ field: 'url', message: expect.stringMatching(reason) }] });
    });

    it('accepts a public address', async () => {
      await a.as('admin').post('/webhooks').send({ url: 'https://93.184.215.14/hook' }).expect(201);
    });
  });

  describe('at connect time (the address changed after creation)', () => {
    let a: TestApp;
    let worker: INestApplicationContext;
    let receiver: Receiver;

    beforeAll(async () => {
      receiver = await Receiver.start();
      // The API accepted loopback URLs; the worker, configured without an allow-list, must still refuse
      // them when it connects: the same situation as a name that re-binds to a private address.
      a = await createTestApp({ ...WEBHOOK_TEST_ENV, WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128' });
      worker = await startWorker({ ...a.config, webhookAllowedCidrs: [] });
    });
    afterAll(async () => {
      await receiver.close();
      await worker.close();
      await a.close();
      await deletePrefixKeys(a.config.redisPrefix);
    });

    it('refuses a literal address and a hostname that resolves to 127.0.0.1, and records why', async () => {
      const byAddress = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/literal') }).expect(201)).body;
      const byName = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/named', 'localhost') }).expect(201)).body;
      await append(a.t.db, 'membership-ai-alliance.ibm', 'MemberJoined', joined('ai-alliance', 'ibm'));

      for (const hook of [byAddress, byName] as Array<{ id: string }>) {
        const [delivery] = await eventually(
          async () => (await a.as('admin').get(`/webhooks/${hook.id}/deliveries`).expect(200)).body.deliveries,
          (ds: Array<{ id: string; status: string }>) => ds.length === 1 && ds[0].status === 'failed',
          'the delivery to be refused',
        );
        const detail = await a.as('admin').get(`/webhooks/${hook.id}/deliveries/${delivery.id}`).expect(200);
        expect(detail.body.attemptLog).toEqual([
          expect.objectContaining({
            statusCode: 0,
            error: 'blocked_address',
            responseExcerpt: expect.stringMatching(/(127\.0\.0\.1|::1) is a(n unspecified,)? loopback/),
          }),
        ]);
      }
      expect(receiver.received).toHaveLength(0);
    });
  });
});
