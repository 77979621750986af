// The benchmark's peer: panva's oidc-provider, deployed the way its docs suggest for a
// multi-core host (node's cluster module, one worker per core, a shared adapter).
//
// Environment: PORT (required), WORKERS (default 2), CLIENT_ID/CLIENT_SECRET (the one
// client, allowed client_credentials only), REDIS_URL + REDIS_PREFIX (shared token storage;
// without it each worker keeps opaque tokens in its own memory and introspection only works
// on the worker that issued the token).
//
// Two resource servers: the default one gets ES256-signed JWT access tokens (as gatepass
// issues); `urn:bench:opaque` gets opaque tokens, which are the only ones oidc-provider will
// introspect (it refuses structured JWTs at its introspection endpoint).
import cluster from 'node:cluster';
import crypto from 'node:crypto';
import process from 'node:process';

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS || 2);

if (cluster.isPrimary) {
  // One signing key for every worker, so a token from one worker verifies on another.
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', use: 'sig', alg: 'ES256' };
  for (let i = 0; i < workers; i += 1) {
    cluster.fork({ BENCH_JWK: JSON.stringify(jwk) });
  }
  let ready = 0;
  cluster.on('message', (_worker, message) => {
    if (message === 'listening') {
      ready += 1;
      if (ready === workers) process.stdout.write(`oidc-provider listening on http://127.0.0.1:${port} (${workers} workers)\n`);
    }
  });
  cluster.on('exit', (worker, code) => {
    process.stderr.write(`worker ${worker.process.pid} exited (${code})\n`);
  });
  const stop = () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { default: Provider } = await import('oidc-provider');
  const jwk = JSON.parse(process.env.BENCH_JWK);
  const issuer = `http://127.0.0.1:${port}`;
  const jwtResource = 'https://api.bench.example';
  const opaqueResource = 'urn:bench:opaque';

  let adapter;
  if (process.env.REDIS_URL) {
    const { RedisAdapter } = await import('./redis_adapter.js');
    RedisAdapter.connect(process.env.REDIS_URL, process.env.REDIS_PREFIX || 'oidc-bench');
    adapter = RedisAdapter;
  }

  const provider = new Provider(issuer, {
    adapter,
    clients: [{
      client_id: process.env.CLIENT_ID || 'bench',
      client_secret: process.env.CLIENT_SECRET || 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api:read',
      id_token_signed_response_alg: 'ES256',
    }],
    // ES256 everywhere: gatepass signs with ES256 by default (GATEPASS_SIGNING_ALG).
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [jwk] },
    scopes: ['api:read'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => jwtResource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource === opaqueResource) {
            return { scope: 'api:read', audience: opaqueResource, accessTokenFormat: 'opaque' };
          }
          return {
            scope: 'api:read',
            audience: jwtResource,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    ttl: { ClientCredentials: 900 },
  });
  provider.proxy = false;

  const server = provider.listen(port, '127.0.0.1', () => process.send('listening'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
