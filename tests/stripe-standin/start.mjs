// Starts the Stripe stand-in (tests/stripe-standin/server.mjs — a fake, not Stripe) for a test and
// wraps its control endpoints.
//
//   const stripe = await startStripeStandin({ secretKey: 'sk_test_x', webhookUrl, webhookSecret: 'whsec_x' });
//   const srv = await startServer({ env: { ATRIUM_BILLING_PROVIDER: 'stripe',
//     ATRIUM_STRIPE_API_BASE: stripe.url, ATRIUM_STRIPE_SECRET_KEY: stripe.secretKey,
//     ATRIUM_STRIPE_WEBHOOK_SECRETS: 'whsec_x' } });
//   await stripe.configure({ webhook_url: `${srv.url}/api/v1/billing/webhooks/stripe` });
//   ... await stripe.waitForEvent((e) => e.type === 'payment_intent.succeeded' && e.deliveries.length);
//   await stripe.stop();
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 10_000;

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});

/**
 * Starts the stand-in on a free loopback port. Returns { port, url ('http://127.0.0.1:PORT'), secretKey,
 * proc, stderr, configure(obj), config(), events(type?), waitForEvent(pred, {timeoutMs}), requests(),
 * failNext(count, status), redeliver(eventId), settle(piId, outcome, declineCode), reset(), idle(), stop() }.
 */
export async function startStripeStandin({ secretKey = 'sk_test_standin', webhookUrl = '', webhookSecret = '', apiVersion } = {}) {
  const args = [path.join(HERE, 'server.mjs'), '--port', '0', '--secret-key', secretKey];
  if (webhookUrl) args.push('--webhook-url', webhookUrl);
  if (webhookSecret) args.push('--webhook-secret', webhookSecret);
  if (apiVersion) args.push('--api-version', apiVersion);
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.unref();
  proc.stdout.unref?.();
  proc.stderr.unref?.();
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));

  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`stripe stand-in did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(out.slice(0, nl)).port);
        } catch (e) {
          reject(new Error(`stripe stand-in printed ${out.slice(0, nl)}: ${e.message}`));
        }
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stripe stand-in exited with ${code} before it was ready\n${stderr}`));
    });
  }).catch((e) => {
    live.delete(proc);
    proc.kill('SIGKILL');
    throw e;
  });

  const url = `http://127.0.0.1:${port}`;
  const control = async (method, p, body) => {
    const res = await fetch(`${url}/__standin/${p}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`stand-in ${method} /__standin/${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const standin = {
    port,
    url,
    secretKey,
    proc,
    get stderr() {
      return stderr;
    },
    configure: (settings) => control('POST', 'config', settings),
    config: () => control('GET', 'config'),
    events: (type) => control('GET', `events${type ? `?type=${encodeURIComponent(type)}` : ''}`),
    requests: () => control('GET', 'requests'),
    failNext: (count = 1, status = 500) => control('POST', 'fail-next', { count, status }),
    redeliver: (eventId) => control('POST', 'redeliver', { event_id: eventId }),
    settle: (paymentIntentId, outcome, declineCode) =>
      control('POST', `payment_intents/${encodeURIComponent(paymentIntentId)}/settle`, { outcome, decline_code: declineCode }),
    reset: () => control('POST', 'reset', {}),
    /** Resolves once every webhook queued after an API response has been delivered (or has failed). */
    async idle({ timeoutMs = 15_000 } = {}) {
      const end = Date.now() + timeoutMs;
      while ((await control('GET', 'pending')).deliveries > 0) {
        if (Date.now() > end) throw new Error(`stand-in webhooks still pending after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    /** Resolves with the events matching pred once there are `count` of them (default 1). */
    async waitForEvent(pred, { timeoutMs = 10_000, count = 1 } = {}) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hits = (await standin.events()).filter(pred);
        if (hits.length >= count) return hits;
        if (Date.now() > end) throw new Error(`no matching stand-in event within ${timeoutMs} ms; have ${hits.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      live.delete(proc);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  return standin;
}
