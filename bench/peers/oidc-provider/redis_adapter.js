// A shared token store for the cluster workers, after oidc-provider's example Redis adapter
// (example/adapters/redis.js), reduced to what client_credentials + introspection use.
import { Redis } from 'ioredis';

let client;
let prefix = 'oidc-bench';

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
    if (expiresIn) {
      await client.set(key, JSON.stringify(payload), 'EX', expiresIn);
    } else {
      await client.set(key, JSON.stringify(payload));
    }
  }

  async find(id) {
    const data = await client.get(this.key(id));
    return data ? JSON.parse(data) : undefined;
  }

  async findByUid() { return undefined; }

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

  async revokeByGrantId() {}

  static get prefix() { return prefix; }
}
