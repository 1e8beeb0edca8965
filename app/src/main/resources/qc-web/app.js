// Shared helpers for the DocStream QC pages: the API fetch wrapper, the
// page header (analyst name, sign-out) and small formatting functions.
//
// Loaded as a classic script before the page script; everything lives on
// the global `QC` object so the pages need no module loader or build step.
//
// Personal data rule: field values never go into the URL, localStorage or
// the console. Nothing here logs request or response bodies.
'use strict';

const QC = (() => {
  const LOGIN_PAGE = '/login.html';

  function goToLogin() {
    // replace(): the page that needed a session should not stay in history.
    location.replace(LOGIN_PAGE);
  }

  // Estimates server clock minus client clock from the Date response header,
  // so that lease countdowns survive a skewed client clock. The header has
  // one-second resolution, so small differences are treated as zero.
  function serverOffsetFrom(response) {
    const header = response.headers.get('Date');
    if (!header) return 0;
    const serverMs = Date.parse(header);
    if (Number.isNaN(serverMs)) return 0;
    const offset = serverMs - Date.now();
    return Math.abs(offset) > 2000 ? offset : 0;
  }

  /**
   * Calls the JSON API. Resolves to {status, ok, data, serverOffsetMs};
   * data is the parsed JSON body or null (e.g. for 204). Rejects only on
   * network failure. Non-2xx answers are returned, not thrown, because the
   * pages treat 204/404/409 as ordinary outcomes.
   *
   * On 401 it navigates to the login page and returns a promise that never
   * settles: the page is being left, so the caller must not continue (and
   * must not show an error for a request that simply needs a login).
   * Pass {allow401: true} to receive the 401 instead (the login form).
   */
  async function api(method, path, body, { allow401 = false } = {}) {
    const options = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401 && !allow401) {
      goToLogin();
      return new Promise(() => {});
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null; // e.g. an HTML error page from a proxy
      }
    }
    return {
      status: response.status,
      ok: response.ok,
      data,
      serverOffsetMs: serverOffsetFrom(response),
    };
  }

  /** The server's {"error": "..."} text, or a generic fallback. */
  function errorMessage(result, fallback) {
    const detail = result && result.data && typeof result.data.error === 'string'
      ? result.data.error
      : `HTTP ${result ? result.status : '?'}`;
    return fallback ? `${fallback}: ${detail}` : detail;
  }

  /**
   * Fills the shared header: #me gets the analyst name, #logout signs out.
   * Also serves as the session check on pages that have no other call at
   * load time (a 401 sends the browser to the login page).
   */
  function initHeader() {
    const logout = document.getElementById('logout');
    if (logout) {
      logout.addEventListener('click', async () => {
        logout.disabled = true;
        try {
          await api('POST', '/api/logout');
        } catch (_) {
          // Even if the call failed, leave: the login page is the safe place.
        }
        goToLogin();
      });
    }
    const me = document.getElementById('me');
    if (me) {
      api('GET', '/api/me')
        .then((result) => {
          if (result.ok && result.data) me.textContent = result.data.analyst;
        })
        .catch(() => { /* name stays as the placeholder; not fatal */ });
    }
  }

  /** Small DOM builder: el('td', {className: 'n'}, 'text', childNode). Text is never parsed as HTML. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** "45 s", "5 min", "2 h 5 min", "3 d 4 h"; "—" when unknown. */
  function formatAge(seconds) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
    const s = Math.floor(seconds);
    if (s < 60) return `${s} s`;
    const minutes = Math.floor(s / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
    const days = Math.floor(hours / 24);
    return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
  }

  /** 0.4312 -> "43 %" (digits = 0) or "43.1 %" (digits = 1); "—" when unknown. */
  function formatPercent(fraction, digits = 0) {
    if (typeof fraction !== 'number' || !Number.isFinite(fraction)) return '—';
    return `${(fraction * 100).toFixed(digits)} %`;
  }

  return { api, errorMessage, initHeader, el, formatAge, formatPercent, goToLogin };
})();
