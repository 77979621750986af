// The authorization code flow with PKCE (RFC 7636), from the browser only.
//
// The code verifier, state and nonce live in sessionStorage for the round trip to gatepass's
// sign-in page. The token and userinfo endpoints are called with fetch(): gatepass answers
// CORS for the origins registered with --web-origin. The tokens are kept in memory only, so
// a reload signs out (a real SPA would use a refresh token or sign in silently again).
// The ID token comes straight from the token endpoint over the connection the browser
// checked (OpenID Connect Core §3.1.3.7 lets a client rely on that instead of verifying the
// signature); its iss, aud, exp and nonce are checked here.
const config = window.GATEPASS
const redirectUri = new URL('.', window.location.href).href
const $ = (id) => document.getElementById(id)

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)))
const sha256 = (text) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))

async function discover () {
  const answer = await fetch(`${config.issuer}/.well-known/openid-configuration`)
  if (!answer.ok) throw new Error(`discovery failed: ${answer.status}`)
  return answer.json()
}

async function signIn () {
  const server = await discover()
  const flow = { verifier: random(), state: random(), nonce: random() }
  sessionStorage.setItem('gatepass-flow', JSON.stringify(flow))
  const url = new URL(server.authorization_endpoint)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri,
    scope: config.scope,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: b64url(await sha256(flow.verifier)),
    code_challenge_method: 'S256'
  })
  window.location.assign(url)
}

function claimsOf (idToken) {
  const part = idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))))
}

async function finish (params) {
  const flow = JSON.parse(sessionStorage.getItem('gatepass-flow') || 'null')
  sessionStorage.removeItem('gatepass-flow')
  window.history.replaceState(null, '', redirectUri) // the code is single use: drop it
  const server = await discover()
  if (!flow || params.get('state') !== flow.state) throw new Error('state mismatch')
  if (params.get('iss') !== server.issuer) throw new Error('iss mismatch (RFC 9207)')
  if (params.has('error')) throw new Error(params.get('error'))
  const answer = await fetch(server.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri,
      client_id: config.clientId,
      code_verifier: flow.verifier
    })
  })
  const tokens = await answer.json()
  if (!answer.ok) throw new Error(tokens.error || `token request failed: ${answer.status}`)
  const claims = claimsOf(tokens.id_token)
  const audience = [].concat(claims.aud)
  if (claims.iss !== server.issuer || !audience.includes(config.clientId) ||
      claims.nonce !== flow.nonce || claims.exp * 1000 < Date.now()) {
    throw new Error('the ID token is not for this sign-in')
  }
  const info = await fetch(server.userinfo_endpoint, {
    headers: { Authorization: `Bearer ${tokens.access_token}` }
  })
  if (!info.ok) throw new Error(`userinfo failed: ${info.status}`)
  const profile = await info.json()
  $('status').textContent = `Signed in as ${profile.name || profile.preferred_username}`
  $('profile').textContent = JSON.stringify(profile, null, 2)
  $('profile').hidden = false
  $('sign-in').hidden = true
  $('sign-out').hidden = false
  $('sign-out').onclick = () => {
    const url = new URL(server.end_session_endpoint)
    url.search = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: redirectUri
    })
    window.location.assign(url)
  }
}

$('sign-in').onclick = () => signIn().catch(shown)
function shown (error) { $('status').textContent = `Sign-in failed: ${error.message}` }
const params = new URLSearchParams(window.location.search)
if (params.has('code') || params.has('error')) finish(params).catch(shown)
