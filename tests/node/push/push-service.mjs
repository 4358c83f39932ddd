// A test push service (RFC 8030) on loopback, and browsers subscribed to it, written
// independently of Natter's Rust code: every push it receives has its VAPID JWT verified
// with `jose` (ES256, aud = the endpoint's origin, exp ≤ 24 h, sub mailto:/https:) and its
// body decrypted with `http_ece` (RFC 8291 aes128gcm) using the subscription's private key.
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import ece from 'http_ece';
import { importJWK, jwtVerify } from 'jose';
import { sleep } from '../natter/harness.mjs';

const b64u = (buf) => Buffer.from(buf).toString('base64url');

/** One receiver per test file: `await PushService.start()`, then `.browser()` per device. */
export class PushService {
  static async start() {
    const s = new PushService();
    await new Promise((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, '127.0.0.1', resolve);
    });
    s.origin = `http://127.0.0.1:${s.server.address().port}`;
    return s;
  }

  constructor() {
    /** Every request received, in order: {path, headers, body, verdict}. */
    this.requests = [];
    /** path → array of statuses to answer next (then 201). */
    this.scripted = new Map();
    this.server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const path = new URL(req.url, 'http://x').pathname;
        this.requests.push({ path, method: req.method, headers: req.headers, body: Buffer.concat(chunks) });
        const queue = this.scripted.get(path);
        const status = queue && queue.length ? queue.shift() : 201;
        const headers = status === 429 ? { 'retry-after': '1' } : {};
        res.writeHead(status, headers).end();
      });
    });
  }

  async stop() {
    await new Promise((r) => this.server.close(r));
  }

  /** Answer the next pushes to this browser with these statuses (e.g. [500], [410]). */
  script(browser, statuses) {
    this.scripted.set(browser.path, [...statuses]);
  }

  /** A simulated browser: its own P-256 key pair, auth secret and endpoint. */
  browser() {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const path = `/push/${randomBytes(12).toString('hex')}`;
    return {
      path,
      ecdh,
      auth,
      endpoint: `${this.origin}${path}`,
      /** The body of POST /api/push/subscriptions (what PushSubscription.toJSON gives). */
      subscription() {
        return { endpoint: this.endpoint, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } };
      },
    };
  }

  /** Requests to this browser so far. */
  to(browser) {
    return this.requests.filter((r) => r.path === browser.path);
  }

  /** Waits (bounded) until this browser has received `n` requests; returns them. */
  async until(browser, n, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const got = this.to(browser);
      if (got.length >= n) return got;
      await sleep(25);
    }
    throw new Error(`push service: ${this.to(browser).length} of ${n} pushes to ${browser.path} within ${timeoutMs} ms`);
  }

  /**
   * Verifies one push request like a real push service and browser would, and returns
   * the decrypted JSON payload and the facts checked.
   */
  async open(browser, req, vapidPublicKey) {
    const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization || '');
    if (!m) throw new Error(`no VAPID authorization header: ${req.headers.authorization}`);
    const [, token, k] = m;
    if (k !== vapidPublicKey) throw new Error('the k= key is not the server\'s VAPID public key');
    const raw = Buffer.from(k, 'base64url');
    if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33)) }, 'ES256');
    const { payload: claims, protectedHeader } = await jwtVerify(token, key, {
      algorithms: ['ES256'],
      audience: new URL(browser.endpoint).origin,
    });
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 24 * 3600) {
      throw new Error(`exp must be within 24 h: ${claims.exp} (now ${now})`);
    }
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
      throw new Error(`sub must be mailto: or https:, got ${claims.sub}`);
    }
    if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
    const plain = ece.decrypt(req.body, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.auth });
    return {
      payload: JSON.parse(plain.toString('utf8')),
      claims,
      alg: protectedHeader.alg,
      ttl: Number(req.headers.ttl),
      urgency: req.headers.urgency,
      topic: req.headers.topic,
    };
  }
}
