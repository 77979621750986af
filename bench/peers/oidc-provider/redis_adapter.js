// A shared store for the cluster workers, after oidc-provider's example Redis adapter
// (example/adapters/redis.js): opaque tokens (client_credentials + introspection), and for the
// authorization code flow sessions (found by uid too), grants and codes (listed per grant, so
// that a code used twice revokes what the grant issued).
import { Redis } from 'ioredis';

let client;
let prefix = 'oidc-bench';

const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

const grantKeyFor = (id) => `grant:${id}`;
const uidKeyFor = (uid) => `uid:${uid}`;

export class RedisAdapter {
  static connect(url, keyPrefix) {
    client = new Redis(url, { keyPrefix: `${keyPrefix}:` });
    prefix = keyPrefix;
  }

  constructor(name) {
    this.name = name;
  }

  key(id) {
    return `${this.name}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const multi = client.multi();
    if (expiresIn) {
      multi.set(key, JSON.stringify(payload), 'EX', expiresIn);
    } else {
      multi.set(key, JSON.stringify(payload));
    }
    if (grantable.has(this.name) && payload.grantId) {
      const grantKey = grantKeyFor(payload.grantId);
      multi.rpush(grantKey, key);
      // The list lives as long as the longest-lived thing in it.
      const ttl = await client.ttl(grantKey);
      if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
    }
    if (payload.uid) {
      multi.set(uidKeyFor(payload.uid), id);
      if (expiresIn) multi.expire(uidKeyFor(payload.uid), expiresIn);
    }
    await multi.exec();
  }

  async find(id) {
    const data = await client.get(this.key(id));
    return data ? JSON.parse(data) : undefined;
  }

  async findByUid(uid) {
    const id = await client.get(uidKeyFor(uid));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode() { return undefined; }

  async consume(id) {
    const data = await this.find(id);
    if (data) {
      data.consumed = Math.floor(Date.now() / 1000);
      await client.set(this.key(id), JSON.stringify(data), 'KEEPTTL');
    }
  }

  async destroy(id) {
    await client.del(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = grantKeyFor(grantId);
    const keys = await client.lrange(grantKey, 0, -1);
    // The list holds keys without the client's prefix, which ioredis adds on del.
    if (keys.length) await client.del(...keys);
    await client.del(grantKey);
  }

  static get prefix() { return prefix; }
}
