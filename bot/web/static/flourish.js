/* Flourish dashboard: the only script. Telegram's telegram-web-app.js is not used (nothing is
   fetched from elsewhere). A Mini App is opened with #tgWebAppData=...&tgWebAppThemeParams=... in
   the URL fragment: this script applies the theme colours (and keeps them for the next pages),
   and posts the initData to the server, which checks its signature and starts a session. */
(function () {
  "use strict";
  var THEME_KEY = "flourish-theme";
  var COLOURS = {
    bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
    button_color: "--button", button_text_color: "--button-text",
    secondary_bg_color: "--secondary-bg"
  };

  function fragment() {
    var hash = window.location.hash.replace(/^#/, "");
    var found = {};
    hash.split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at > 0) {
        found[decodeURIComponent(part.slice(0, at))] = decodeURIComponent(part.slice(at + 1));
      }
    });
    return found;
  }

  function applyTheme(theme) {
    var root = document.documentElement;
    Object.keys(COLOURS).forEach(function (key) {
      if (typeof theme[key] === "string" && /^#[0-9a-fA-F]{3,8}$/.test(theme[key])) {
        root.style.setProperty(COLOURS[key], theme[key]);
      }
    });
  }

  function storedTheme() {
    try { return JSON.parse(window.sessionStorage.getItem(THEME_KEY) || "null"); }
    catch (e) { return null; }
  }

  var params = fragment();
  var theme = null;
  if (params.tgWebAppThemeParams) {
    try { theme = JSON.parse(params.tgWebAppThemeParams); } catch (e) { theme = null; }
    if (theme) {
      try { window.sessionStorage.setItem(THEME_KEY, JSON.stringify(theme)); } catch (e) { /* private mode */ }
    }
  }
  theme = theme || storedTheme();
  if (theme) { applyTheme(theme); }

  function signIn(initData) {
    var status = document.getElementById("sign-in-status");
    if (status) { status.textContent = "Signing you in…"; }
    var body = new URLSearchParams();
    body.set("init_data", initData);
    fetch("/auth/telegram", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.ok) {
          window.history.replaceState(null, "", "/");
          window.location.replace(answer.next || "/");
        } else if (status) {
          status.textContent = answer.error;
          status.setAttribute("role", "alert");
        } else {
          window.location.replace("/");  // any earlier session was ended: show the sign-in page
        }
      })
      .catch(function () {
        if (status) { status.textContent = "Sorry, the dashboard could not be reached. Please try again."; }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Opened from Telegram: always sign in as the person Telegram vouches for (a cookie left by
    // someone else on this device must not decide who is looking).
    if (params.tgWebAppData) {
      signIn(params.tgWebAppData);
    }
  });
})();
