// gatepass console: a little progressive enhancement. Every page works without it (destructive
// actions then get a confirmation page from the server instead of a dialog).
"use strict";

// Ask before destructive actions; the server acts only on forms marked confirmed.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (!question) {
    return;
  }
  if (!window.confirm(question)) {
    event.preventDefault();
    return;
  }
  var marker = form.querySelector("input[name=confirmed]");
  if (marker) {
    marker.value = "yes";
  }
});

// Copy a secret shown once.
function copied(button, text) {
  var status = document.getElementById(button.getAttribute("aria-describedby"));
  if (status) {
    status.textContent = text;
  }
}

function copyBySelection(node) {
  var range = document.createRange();
  range.selectNodeContents(node);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  var ok = false;
  try {
    ok = document.execCommand("copy");
  } catch (e) {
    ok = false;
  }
  return ok;
}

document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  var node = document.querySelector(button.getAttribute("data-copy"));
  if (!node) {
    return;
  }
  var text = node.textContent.trim();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(
      function () { copied(button, "Copied to the clipboard."); },
      function () {
        copied(button, copyBySelection(node) ? "Copied to the clipboard." : "Select and copy it by hand.");
      }
    );
  } else {
    copied(button, copyBySelection(node) ? "Copied to the clipboard." : "Select and copy it by hand.");
  }
});

// Live figures: fetch a server-rendered fragment and swap it in.
function startLive(container) {
  var source = container.getAttribute("data-live-src");
  var every = parseInt(container.getAttribute("data-live-interval"), 10) || 10000;
  var timer = window.setInterval(function () {
    if (document.hidden) {
      return;
    }
    fetch(source, { credentials: "same-origin", redirect: "manual", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          window.clearInterval(timer);  // signed out or gone: stop asking
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html !== null) {
          container.innerHTML = html;
          container.setAttribute("data-refreshed", new Date().toISOString());
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }, every);
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-live-src]").forEach(startLive);
  var error = document.getElementById("form-error");
  if (error) {
    error.focus();
  }
});
