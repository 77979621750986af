// The benchmark's peer: panva's oidc-provider, deployed the way its docs suggest for a
// multi-core host (node's cluster module, one worker per core, a shared adapter).
//
// Environment: PORT (required), WORKERS (default 2), CLIENT_ID/CLIENT_SECRET (the machine
// client, allowed client_credentials only), APP_CLIENT_ID/APP_CLIENT_SECRET/APP_REDIRECT_URI
// (the web app client of the authorization code flow), REDIS_URL + REDIS_PREFIX (shared
// storage of opaque tokens, sessions, grants and codes; without it each worker keeps them in
// its own memory and a flow or an introspection only works on the worker that began it).
//
// The authorization code flow needs a signed-in user and a grant: the benchmark gets both
// once, before any load, through `/interaction/:uid` below, which stands in for a login and
// consent page: it signs the bench user in (no password: the sign-in itself is not measured)
// and records a grant of `openid api:read` for the app, as a consent page's Allow would.
// After that the browser's session cookie lets every authorization request through with no
// interaction, each one finding the grant through the session (the default
// `loadExistingGrant`), as a returning user's would.
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
  // Cookie signing key, the same on every worker (a session begun on one is read by another).
  const cookieKey = crypto.randomBytes(32).toString('base64url');
  for (let i = 0; i < workers; i += 1) {
    cluster.fork({ BENCH_JWK: JSON.stringify(jwk), BENCH_COOKIE_KEY: cookieKey });
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

  const accountId = process.env.ACCOUNT_ID || 'bench-user';
  const app = {
    client_id: process.env.APP_CLIENT_ID || 'bench-app',
    client_secret: process.env.APP_CLIENT_SECRET || 'bench-app-secret-bench-app-secret-bench',
    redirect_uri: process.env.APP_REDIRECT_URI || 'https://app.bench.example/callback',
  };

  const provider = new Provider(issuer, {
    adapter,
    // One account; its ID token claims are `sub` (the scenario asks for `openid api:read`).
    findAccount: async (_ctx, sub) => (sub === accountId
      ? { accountId: sub, claims: async () => ({ sub }) }
      : undefined),
    cookies: { keys: [process.env.BENCH_COOKIE_KEY || 'bench-cookie-key'] },
    clients: [{
      client_id: process.env.CLIENT_ID || 'bench',
      client_secret: process.env.CLIENT_SECRET || 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api:read',
      id_token_signed_response_alg: 'ES256',
    }, {
      // The web app of the authorization code flow: confidential (client_secret_basic),
      // PKCE S256 sent by the bench, no refresh tokens (as the gatepass client).
      client_id: app.client_id,
      client_secret: app.client_secret,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [app.redirect_uri],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid api:read',
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
    // A code lives 60 s as gatepass's; a session 10 h as gatepass's sign-in session at most.
    ttl: {
      ClientCredentials: 900,
      AuthorizationCode: 60,
      Session: 36000,
      Grant: 14 * 24 * 3600,
      Interaction: 600,
    },
  });
  provider.proxy = false;
  // Errors only (a healthy run logs nothing): a wrong answer under load is then explained.
  provider.on('server_error', (_ctx, err) => process.stderr.write('SERVERERR ' + err.stack + '\n'));

  // The stand-in login + consent page (see the top of this file): only during provisioning.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) {
      await next();
      return;
    }
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope('openid api:read'); // api:read is also a provider scope (`scopes`)
    grant.addResourceScope(jwtResource, 'api:read');
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  const server = provider.listen(port, '127.0.0.1', () => process.send('listening'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
