// Passkeys on the hosted pages (issue 18): registering one on /account, signing in with one
// on /login, using one as the second factor on /login's second step, and registering one as
// the second factor a policy requires at sign-in. The browser talks to the authenticator; gatepass checks everything it returns.
"use strict";

function b64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function creationOptions(options) {
  options.challenge = unb64url(options.challenge);
  options.user.id = unb64url(options.user.id);
  for (const item of options.excludeCredentials || []) item.id = unb64url(item.id);
  return options;
}

function requestOptions(options) {
  options.challenge = unb64url(options.challenge);
  for (const item of options.allowCredentials || []) item.id = unb64url(item.id);
  return options;
}

function credentialJson(credential) {
  const response = credential.response;
  const out = {
    id: credential.id,
    rawId: b64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
    response: { clientDataJSON: b64url(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    out.response.attestationObject = b64url(response.attestationObject);
    out.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    out.response.authenticatorData = b64url(response.authenticatorData);
    out.response.signature = b64url(response.signature);
    out.response.userHandle = response.userHandle ? b64url(response.userHandle) : null;
  }
  return out;
}

async function postJson(url, body, csrf) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error_description || "refused (" + response.status + ")");
  return data;
}

function csrfOfPage() {
  const field = document.querySelector("input[name=csrf]");
  return field ? field.value : "";
}

document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("passkey-status");
  const add = document.getElementById("add-passkey");
  if (add) {
    add.addEventListener("click", async () => {
      try {
        const started = await postJson("/account/passkeys/options", {}, csrfOfPage());
        const credential = await navigator.credentials.create({
          publicKey: creationOptions(started.options),
        });
        const name = document.getElementById("passkey-name").value;
        await postJson(
          "/account/passkeys",
          { state: started.state, credential: credentialJson(credential), name: name },
          csrfOfPage(),
        );
        window.location.assign("/account?done=passkey");
      } catch (error) {
        status.textContent = "No passkey was added: " + error.message;
      }
    });
  }
  const second = document.getElementById("passkey-mfa");
  if (second) {
    if (!window.PublicKeyCredential) second.hidden = true;
    second.addEventListener("click", async () => {
      const form = document.getElementById("passkey-mfa-form");
      try {
        // The pending sign-in's mfa_token says whose passkeys may answer.
        const started = await postJson(
          "/auth/webauthn/mfa/options",
          { mfa_token: form.elements.mfa_token.value },
          "",
        );
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(started.options),
        });
        form.elements.code.value = JSON.stringify({
          state: started.state,
          credential: credentialJson(credential),
        });
        form.submit();
      } catch (error) {
        status.textContent = "The passkey was not used: " + error.message;
      }
    });
  }
  const enrol = document.getElementById("passkey-enrol");
  if (enrol) {
    if (!window.PublicKeyCredential) enrol.parentElement.hidden = true;
    enrol.addEventListener("click", async () => {
      // The enrolment page's mfa_token (a right password, no factor yet) says who registers.
      const token = document.querySelector("input[name=mfa_token]").value;
      try {
        const started = await postJson("/login/enrol/passkey/options", { mfa_token: token }, csrfOfPage());
        const credential = await navigator.credentials.create({
          publicKey: creationOptions(started.options),
        });
        const done = await postJson(
          "/login/enrol/passkey",
          {
            mfa_token: token,
            state: started.state,
            credential: credentialJson(credential),
            return_to: enrol.dataset.returnTo || "",
          },
          csrfOfPage(),
        );
        window.location.assign(done.redirect);
      } catch (error) {
        status.textContent = "No passkey was added: " + error.message;
      }
    });
  }
  const signin = document.getElementById("passkey-signin");
  if (signin) {
    if (!window.PublicKeyCredential) signin.hidden = true;
    signin.addEventListener("click", async () => {
      try {
        const started = await postJson("/auth/webauthn/login/options", {}, "");
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(started.options),
        });
        const done = await postJson(
          "/login/passkey",
          {
            state: started.state,
            credential: credentialJson(credential),
            return_to: signin.dataset.returnTo || "",
          },
          csrfOfPage(),
        );
        window.location.assign(done.redirect);
      } catch (error) {
        status.textContent = "Not signed in: " + error.message;
      }
    });
  }
});
