// The userevents web console. It signs in with an IAM password token
// (POST /v3/auth/tokens on this origin), keeps the token in sessionStorage
// and sends it as X-Auth-Token to the Workspace JSON APIs. Server data is
// written to the page with textContent only, never as HTML.
"use strict";

(function () {
  const storageKey = "userevents.console.session";
  const deliveryRefreshMillis = 5000;
  const deadLetterPageSize = 100;

  const $ = (id) => document.getElementById(id);

  // session is the signed-in state: token, projectId, projectName,
  // userName, accountName and expiresAt (milliseconds since the epoch).
  let session = null;
  let deliveryTimer = 0;

  // eventsPage is the current events query, frozen when Search is pressed
  // so that paging walks one fixed result set.
  const eventsPage = { query: null, offset: 0, limit: 50, count: 0 };

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // ---- session ----

  function loadSession() {
    let stored = null;
    try {
      stored = JSON.parse(sessionStorage.getItem(storageKey) || "null");
    } catch (e) {
      stored = null;
    }
    if (!stored || !stored.token || !stored.projectId || !(stored.expiresAt > Date.now())) {
      sessionStorage.removeItem(storageKey);
      return null;
    }
    return stored;
  }

  function endSession(message) {
    session = null;
    sessionStorage.removeItem(storageKey);
    showSignIn(message);
  }

  // parseKeystoneTime parses the token's expires_at. It cuts the six
  // fraction digits to three, the only form that Date.parse must accept.
  function parseKeystoneTime(text) {
    const trimmed = String(text || "").replace(/(\.\d{3})\d+/, "$1");
    const t = Date.parse(trimmed);
    return Number.isNaN(t) ? 0 : t;
  }

  async function signIn(account, user, password, region) {
    const body = {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: user, password: password, domain: { name: account } } },
        },
        scope: { project: { name: region } },
      },
    };
    const resp = await fetch("/v3/auth/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    const data = await readJSON(resp);
    if (resp.status !== 201) {
      throw errorOf(resp, data);
    }
    const token = resp.headers.get("X-Subject-Token");
    const project = data && data.token && data.token.project;
    if (!token || !project || !project.id) {
      throw new APIError(resp.status, "", "The server returned no project-scoped token.");
    }
    return {
      token: token,
      projectId: project.id,
      projectName: project.name || region,
      userName: (data.token.user && data.token.user.name) || user,
      accountName: account,
      expiresAt: parseKeystoneTime(data.token.expires_at),
    };
  }

  // ---- API ----

  async function readJSON(resp) {
    const text = await resp.text();
    if (!text) {
      return null;
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      return { error_msg: text };
    }
  }

  function errorOf(resp, data) {
    const message = (data && (data.error_msg || data.errorMessage)) ||
      "The request failed with HTTP " + resp.status + ".";
    const code = (data && (data.error_code || data.errorCode)) || "";
    return new APIError(resp.status, code, message);
  }

  // api calls a Workspace API of the signed-in project. path is relative
  // to /v2/{project_id}/user-events. A 401 ends the session, because the
  // token expired or was revoked.
  async function api(method, path, query, body) {
    const url = new URL("/v2/" + encodeURIComponent(session.projectId) + "/user-events" + path,
      window.location.origin);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== "" && value !== undefined && value !== null) {
        url.searchParams.set(name, String(value));
      }
    }
    const init = {
      method: method,
      headers: { "X-Auth-Token": session.token },
      cache: "no-store",
      credentials: "omit",
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(url, init);
    const data = await readJSON(resp);
    if (!resp.ok) {
      const err = errorOf(resp, data);
      if (resp.status === 401) {
        endSession("Your session ended: " + err.message);
      }
      throw err;
    }
    return data;
  }

  function describeError(err) {
    if (err instanceof APIError) {
      return err.code ? err.message + " (" + err.code + ")" : err.message;
    }
    return "The request failed: " + err.message;
  }

  // ---- views ----

  function showSignIn(message) {
    stopDeliveryRefresh();
    $("nav").hidden = true;
    $("sign-out").hidden = true;
    $("who").textContent = "";
    for (const view of document.querySelectorAll(".view")) {
      view.hidden = view.id !== "sign-in-view";
    }
    $("sign-in-error").textContent = message || "";
    $("sign-in-password").value = "";
    $("sign-in-account").focus();
  }

  function showApp() {
    $("nav").hidden = false;
    $("sign-out").hidden = false;
    $("who").textContent = session.userName + " @ " + session.accountName + " · " +
      session.projectName + " (" + session.projectId + ")";
    showView("events");
  }

  function showView(name) {
    stopDeliveryRefresh();
    for (const view of document.querySelectorAll(".view")) {
      view.hidden = view.id !== name + "-view";
    }
    for (const tab of document.querySelectorAll(".tab")) {
      tab.setAttribute("aria-current", tab.dataset.view === name ? "page" : "false");
    }
    if (name === "events") {
      if (!eventsPage.query) {
        searchEvents();
      }
    } else if (name === "lts") {
      loadLTSConfig();
    } else if (name === "delivery") {
      loadDelivery();
      deliveryTimer = window.setInterval(loadDelivery, deliveryRefreshMillis);
    }
  }

  function stopDeliveryRefresh() {
    if (deliveryTimer) {
      window.clearInterval(deliveryTimer);
      deliveryTimer = 0;
    }
  }

  // ---- events ----

  // toInputValue formats a time for a datetime-local input, in UTC.
  function toInputValue(date) {
    return date.toISOString().slice(0, 19);
  }

  // fromInputValue reads a datetime-local value as a UTC time. The browser
  // leaves the seconds out of the value when they are zero.
  function fromInputValue(value) {
    const withSeconds = value.length === 16 ? value + ":00" : value;
    return new Date(withSeconds + "Z");
  }

  function resetEventsForm() {
    $("events-start").value = toInputValue(new Date(Date.now() - 24 * 3600 * 1000));
    $("events-end").value = "";
  }

  function searchEvents() {
    $("events-error").textContent = "";
    const start = fromInputValue($("events-start").value);
    const endValue = $("events-end").value;
    const end = endValue ? fromInputValue(endValue) : new Date();
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      $("events-error").textContent = "Enter the start time, and an end time or nothing for now.";
      return;
    }
    const types = $("events-types").value.split(",").map((t) => t.trim()).filter((t) => t !== "");
    eventsPage.query = {
      start_time: start.toISOString(),
      end_time: end.toISOString(),
      username: $("events-username").value.trim(),
      event_type: types.join(","),
      resource_name: $("events-resource").value.trim(),
    };
    eventsPage.limit = Number($("events-limit").value);
    eventsPage.offset = 0;
    loadEvents();
  }

  async function loadEvents() {
    const query = Object.assign({}, eventsPage.query, {
      offset: eventsPage.offset,
      limit: eventsPage.limit,
    });
    $("events-search").disabled = true;
    try {
      const data = await api("GET", "", query);
      eventsPage.count = data.count;
      renderEvents(data.items || []);
      $("events-error").textContent = "";
    } catch (err) {
      $("events-error").textContent = describeError(err);
    } finally {
      $("events-search").disabled = false;
    }
  }

  function renderEvents(items) {
    const count = eventsPage.count;
    $("events-count").textContent = count === 1 ? "1 event" : count + " events";
    $("events-range").textContent = items.length === 0 ? "" :
      "(showing " + (eventsPage.offset + 1) + "–" + (eventsPage.offset + items.length) + ", newest first)";
    const rows = items.map((e) => {
      let result = "";
      if (e.is_success === true) {
        result = "success";
      } else if (e.is_success === false) {
        result = "failed";
      }
      const row = tableRow([e.event_time, e.event_type, e.username, result,
        e.resource_name || e.resource_id, e.client_ip, errorText(e)]);
      if (e.is_success === false) {
        row.className = "failed";
      }
      return row;
    });
    $("events-rows").replaceChildren(...rows);
    $("events-prev").disabled = eventsPage.offset === 0;
    $("events-next").disabled = eventsPage.offset + eventsPage.limit >= count;
  }

  function errorText(e) {
    if (e.error_code && e.error_msg) {
      return e.error_code + ": " + e.error_msg;
    }
    return e.error_code || e.error_msg || "";
  }

  function tableRow(cells) {
    const row = document.createElement("tr");
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.textContent = value === undefined || value === null ? "" : String(value);
      row.appendChild(cell);
    }
    return row;
  }

  // ---- LTS configuration ----

  async function loadLTSConfig() {
    $("lts-error").textContent = "";
    try {
      const cfg = await api("GET", "/lts-configurations");
      $("lts-current-enable").textContent = cfg.enable ? "enabled" : "disabled";
      $("lts-current-group").textContent = cfg.log_group_id || "—";
      $("lts-current-stream").textContent = cfg.log_stream_id || "—";
      $(cfg.enable ? "lts-enable-on" : "lts-enable-off").checked = true;
      $("lts-group").value = cfg.log_group_id || "";
      $("lts-stream").value = cfg.log_stream_id || "";
    } catch (err) {
      $("lts-error").textContent = describeError(err);
    }
  }

  async function saveLTSConfig() {
    $("lts-message").textContent = "";
    $("lts-error").textContent = "";
    const enable = $("lts-enable-on").checked;
    const body = { enable: enable };
    if (enable) {
      body.log_group_id = $("lts-group").value.trim();
      body.log_stream_id = $("lts-stream").value.trim();
    }
    $("lts-save").disabled = true;
    try {
      await api("POST", "/lts-configurations", undefined, body);
      await loadLTSConfig();
      $("lts-message").textContent = enable ? "Saved: delivery is enabled." : "Saved: delivery is disabled.";
    } catch (err) {
      $("lts-error").textContent = describeError(err);
    } finally {
      $("lts-save").disabled = false;
    }
  }

  // ---- delivery ----

  function formatAge(seconds) {
    if (seconds < 60) {
      return seconds + " s";
    }
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return minutes + " min";
    }
    const hours = Math.floor(minutes / 60);
    if (hours < 48) {
      return hours + " h " + (minutes % 60) + " min";
    }
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  async function loadDelivery() {
    try {
      const [st, dead] = await Promise.all([
        api("GET", "/delivery-status"),
        api("GET", "/dead-letters", { limit: deadLetterPageSize }),
      ]);
      renderDeliveryStatus(st);
      renderDeadLetters(dead);
      $("delivery-error").textContent = "";
      $("delivery-updated").textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC";
    } catch (err) {
      $("delivery-error").textContent = describeError(err);
    }
  }

  function renderDeliveryStatus(st) {
    $("delivery-state").textContent = st.state;
    $("delivery-state").className = "state-" + st.state;
    $("delivery-pending").textContent = String(st.pending);
    $("delivery-oldest").textContent = st.oldest_pending_time ?
      st.oldest_pending_time + " (" + formatAge(st.oldest_pending_age_seconds) + " ago)" : "—";
    $("delivery-next").textContent = st.next_attempt_time || "—";
    $("delivery-delivered").textContent = String(st.delivered);
    $("delivery-failed").textContent = String(st.failed);
    $("delivery-dead").textContent = String(st.dead_letters);
    $("delivery-last-error").textContent = st.last_error ?
      st.last_error + (st.last_error_time ? " (at " + st.last_error_time + ")" : "") : "—";
  }

  function renderDeadLetters(dead) {
    const items = dead.items || [];
    let text = dead.count === 1 ? "1 dead letter" : dead.count + " dead letters";
    if (items.length < dead.count) {
      text += ", showing the newest " + items.length;
    }
    $("dead-count").textContent = text;
    $("dead-retry").disabled = dead.count === 0;
    const rows = items.map((d) => {
      const e = d.event || {};
      const event = [e.event_time, e.event_type, e.username].filter((v) => v).join(" ");
      return tableRow([d.id, d.dead_time, d.reason, d.attempts, event,
        d.log_group_id + " / " + d.log_stream_id]);
    });
    $("dead-rows").replaceChildren(...rows);
  }

  async function retryDeadLetters() {
    $("dead-message").textContent = "";
    $("dead-error").textContent = "";
    $("dead-retry").disabled = true;
    try {
      const data = await api("POST", "/dead-letters/retry", undefined, { target: "current" });
      $("dead-message").textContent = data.count === 1 ?
        "1 dead letter queued again." : data.count + " dead letters queued again.";
    } catch (err) {
      $("dead-error").textContent = describeError(err);
    }
    await loadDelivery();
  }

  // ---- wiring ----

  function init() {
    $("sign-in-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("sign-in-error").textContent = "";
      $("sign-in-submit").disabled = true;
      try {
        session = await signIn($("sign-in-account").value.trim(), $("sign-in-user").value.trim(),
          $("sign-in-password").value, $("sign-in-region").value.trim());
        sessionStorage.setItem(storageKey, JSON.stringify(session));
        $("sign-in-password").value = "";
        eventsPage.query = null;
        showApp();
      } catch (err) {
        $("sign-in-error").textContent = describeError(err);
      } finally {
        $("sign-in-submit").disabled = false;
      }
    });
    $("sign-out").addEventListener("click", () => endSession(""));
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => showView(tab.dataset.view));
    }

    $("events-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      searchEvents();
    });
    $("events-prev").addEventListener("click", () => {
      eventsPage.offset = Math.max(0, eventsPage.offset - eventsPage.limit);
      loadEvents();
    });
    $("events-next").addEventListener("click", () => {
      eventsPage.offset += eventsPage.limit;
      loadEvents();
    });

    $("lts-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      saveLTSConfig();
    });
    $("delivery-refresh").addEventListener("click", loadDelivery);
    $("dead-retry").addEventListener("click", retryDeadLetters);

    resetEventsForm();
    session = loadSession();
    if (session) {
      showApp();
    } else {
      showSignIn("");
    }
  }

  init();
})();
