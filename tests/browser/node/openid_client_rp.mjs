// A relying party built on panva's openid-client, driven step by step by the Python tests.
//
//   node openid_client_rp.mjs start  '{"issuer", "client_id", "client_secret"?, "redirect_uri", "scope", ...}'
//   node openid_client_rp.mjs finish '{... as above, "callback", "verifier", "state", "nonce"}'
//
// `start` runs discovery and builds the authorization URL (PKCE S256 + state + nonce);
// `finish` runs authorizationCodeGrant on the callback URL (which checks `iss`, the ID token,
// `at_hash` and the nonce strictly), fetchUserInfo, then refreshTokenGrant when a refresh
// token came back. One JSON object goes to stdout; a failure prints {"error": ...} and exits 1.
// The library is used unchanged: the only option is allowInsecureRequests, because the test
// server listens on plain http://127.0.0.1.
import * as oidc from 'openid-client'

const [step, raw] = process.argv.slice(2)
const input = JSON.parse(raw)

async function configuration () {
  const metadata = { client_id: input.client_id }
  if (input.id_token_alg) metadata.id_token_signed_response_alg = input.id_token_alg
  let auth
  if (input.client_secret) {
    metadata.client_secret = input.client_secret
    auth = input.auth === 'post' ? oidc.ClientSecretPost() : oidc.ClientSecretBasic()
  } else {
    auth = oidc.None()
  }
  return oidc.discovery(new URL(input.issuer), input.client_id, metadata, auth, {
    execute: [oidc.allowInsecureRequests],
    timeout: 10
  })
}

async function start () {
  const config = await configuration()
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const parameters = {
    redirect_uri: input.redirect_uri,
    scope: input.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(input.extra || {})
  }
  const url = oidc.buildAuthorizationUrl(config, parameters)
  return { url: url.href, verifier, state, nonce, server: config.serverMetadata() }
}

async function finish () {
  const config = await configuration()
  const tokens = await oidc.authorizationCodeGrant(config, new URL(input.callback), {
    pkceCodeVerifier: input.verifier,
    expectedState: input.state,
    expectedNonce: input.nonce,
    idTokenExpected: true
  })
  const claims = tokens.claims()
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
  const result = {
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expiresIn(),
    access_token: tokens.access_token,
    id_token: tokens.id_token,
    claims,
    userinfo,
    refresh_token: tokens.refresh_token || null,
    refreshed: null
  }
  if (tokens.refresh_token) {
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
    result.refreshed = {
      access_token: refreshed.access_token,
      refresh_token: refreshed.refresh_token || null,
      claims: refreshed.claims() || null
    }
  }
  if (input.post_logout_redirect_uri) {
    result.end_session_url = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: input.post_logout_redirect_uri,
      state: 'bye'
    }).href
  }
  return result
}

const steps = { start, finish }
try {
  console.log(JSON.stringify(await steps[step]()))
} catch (error) {
  console.log(JSON.stringify({
    error: error.name,
    code: error.code || null,
    message: error.message,
    // oauth4webapi's ResponseBodyError: the server's OAuth error and status
    oauth_error: error.error ?? null,
    status: error.status ?? null,
    cause: error.cause === undefined ? null : String(error.cause?.message ?? error.cause)
  }))
  process.exit(1)
}
