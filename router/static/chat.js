// The TL-FIF chat page: sign in (Cognito's hosted UI with PKCE where deployed, the local
// stack's demo user by itself, else a pasted access token), then talk to the router's
// POST /v1/chat/completions, streamed, keeping the conversation in the page; the node's
// phase while it starts, Stop (Send, while a reply streams: POST /cancel/{id}, ADR 0030),
// Stop GPU for the deployment's owner, the idle minutes, and the node woken when the
// prompt box gets focus (wake-ahead, POST /wake, ADR 0029).
//
// Plain script, no build step and no third-party code: the page works offline, under a
// Content-Security-Policy that allows this origin's own files only, and the one sign-in
// origin the router names (router/chat_page.py). Every text the page shows goes in with
// textContent, never as HTML.
"use strict";

(() => {
  // sessionStorage, never localStorage: the token is a bearer credential, as good as the
  // password for its hour. sessionStorage belongs to this tab alone and is gone when the
  // tab closes; localStorage would keep it on disk, for every tab of this origin, until
  // someone clears it.
  const TOKEN_KEY = "tlfif.token";
  const REFRESH_KEY = "tlfif.refresh"; // the refresh token: same rules, same tab
  // The PKCE verifier and state of a sign-in on its way through the hosted UI: kept only
  // from the redirect there until the code comes back to this tab.
  const PKCE_KEY = "tlfif.pkce";
  // The router's cap on a request's content (tlfif/contracts.py, MAX_CONTENT_BYTES): the
  // oldest turns are left out of a request until the rest fits, as the desktop GUI does.
  const MAX_CONTENT_BYTES = 6144;
  // The official openai client numbers its tries in this header; the router resumes the
  // job of try 0 for a later try with the same body (ADR 0024, tlfif/resume.py), so a
  // retry through a cold start pays for one job.
  const RETRY_COUNT_HEADER = "x-stainless-retry-count";
  // Tries of one prompt after a 503 or 429 with Retry-After: ten waits of at most 120 s
  // each outlast any cold start the router's estimate allows for.
  const MAX_RETRIES = 10;
  const MAX_RETRY_AFTER_SECONDS = 120; // the router never asks for more (openai's limit)
  const TICK_MS = 250;
  // While a prompt waits for its first text, GET /status says what the node is doing.
  const PHASE_POLL_MS = 2000;
  const DEFAULT_IDLE_MINUTES = 5; // the router's default (tlfif/contracts.py)
  // Wake-ahead is on unless this holds "off": `?wake=off` sets it, `?wake=on` clears it. A
  // choice, not a credential, so localStorage: it stays for every visit of this browser.
  const WAKE_KEY = "tlfif.wake";
  // The words the CLI and the window use for a waiting prompt (tlfif/client/phase.py),
  // by the node's phase; a ready node is generating it.
  const WAITING_WORDS = {
    stopped: "starting the node",
    starting: "starting the node",
    booting: "the node is booting",
    loading: "the node is loading the model",
    ready: "generating",
    engine_restarting: "the engine stopped and is restarting; the prompt is kept",
    stopping: "the node is stopping; it will start again for this prompt",
  };
  // The header's word for the node (GET /status).
  const NODE_WORDS = {
    stopped: "GPU stopped",
    starting: "GPU starting",
    booting: "GPU booting",
    loading: "GPU loading the model",
    ready: "GPU ready",
    engine_restarting: "GPU engine restarting",
    stopping: "GPU stopping",
  };

  const byId = (id) => document.getElementById(id);
  const encoder = new TextEncoder();
  const state = { model: null, messages: [], busy: false, streamRefused: false, owner: false };
  // The reply on its way (onPrompt's), for Stop: its fetch's AbortController, its job id
  // once a chunk named it, and what Stop found.
  let flight = null;
  // When the node was last woken or answered (ms), and whether a wake is on its way.
  const wake = { upSince: -Infinity, pending: false };
  // How to sign in, as the router said (router/chat_page.py's SignIn).
  const signInWith = JSON.parse(
    document.querySelector('meta[name="tlfif-sign-in"]')?.content || "{}",
  );
  const mode = signInWith.hosted_ui ? "hosted-ui" : signInWith.cognito_url ? "demo" : "paste";

  class ApiError extends Error {
    constructor(message, status, param = null) {
      super(message);
      this.status = status;
      this.param = param;
    }
  }

  // --- talking to the router -------------------------------------------------------

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function authorised(headers = {}) {
    return { ...headers, Authorization: `Bearer ${token()}` };
  }

  async function send(path, init) {
    try {
      return await fetch(path, init);
    } catch (error) {
      throw new ApiError(`the router could not be reached (${error.message})`, 0);
    }
  }

  // What an error response says: OpenAI's {"error": {"message", "type", "param", "code"}}
  // on /v1, else API Gateway's own 401 body ({"message": "Unauthorized"}) when its JWT
  // authorizer refused the token before the router ran.
  async function errorOf(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: said by the status alone
    }
    const error = body && typeof body.error === "object" ? body.error : null;
    if (error && typeof error.message === "string") {
      return new ApiError(error.message, response.status, error.param ?? null);
    }
    if (body && typeof body.message === "string") {
      return new ApiError(body.message, response.status);
    }
    return new ApiError(`the router answered HTTP ${response.status}`, response.status);
  }

  // The seconds a 503 or 429 asks to wait before the same request again, or null where it
  // must not be retried (no Retry-After, or x-should-retry: false: a budget or owner's hold).
  function retryAfterOf(response) {
    if (response.status !== 503 && response.status !== 429) return null;
    if (response.headers.get("x-should-retry") === "false") return null;
    const seconds = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
    if (!Number.isFinite(seconds) || seconds < 0) return null;
    return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
  }

  // A call with the token, once more with a renewed one after a 401 where the page can
  // renew it (a refresh token, or the demo user's password): a token's hour ran out.
  async function withToken(call) {
    const response = await call();
    if (response.status !== 401 || !(await renewToken())) return response;
    return call();
  }

  async function fetchModel() {
    const response = await withToken(() => send("v1/models", { headers: authorised() }));
    if (!response.ok) throw await errorOf(response);
    const listing = await response.json();
    return listing.data[0].id;
  }

  // GET /status: the node's phase and whether the caller owns the deployment; null when
  // the router cannot say (the page then goes by what its requests tell).
  async function fetchStatus() {
    try {
      const response = await withToken(() => send("status", { headers: authorised() }));
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  // POST /stop (the owner only): the node stops and stays stopped until the owner's next
  // prompt.
  async function stopNode() {
    const response = await withToken(() =>
      send("stop", { method: "POST", headers: authorised() }),
    );
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  // Stop, while a reply is on its way: POST /cancel/{id} with the same bearer (the job's
  // id came in the stream's first chunk), then the stream is dropped (AbortController);
  // onPrompt shows the text so far, marked stopped. The cancelled reply's text is the
  // one to show (the node's, to its last token). A 409 says the reply landed first: the
  // stream is left to bring it. Before any chunk there is no id to cancel: the fetch is
  // dropped all the same, and the router cancels a /v1 stream left before [DONE] once
  // its grace passes without a retry (ADR 0030).
  function stopReply() {
    const asked = flight;
    if (!asked || asked.stop) return;
    byId("send").disabled = true; // a stop on its way
    setStatus("stopping the reply…");
    // The stream may end first (with the cancelled reply's error): onPrompt waits for this.
    asked.stop = cancelFlight(asked);
  }

  async function cancelFlight(asked) {
    if (asked.jobId) {
      try {
        const path = `cancel/${encodeURIComponent(asked.jobId)}`;
        const response = await withToken(() =>
          send(path, { method: "POST", headers: authorised() }),
        );
        if (response.status === 409) return; // answered already: the stream brings it
        if (response.status === 200) {
          asked.cancelledText = (await response.json()).text;
        } else if (response.status !== 202) {
          asked.stopError = (await errorOf(response)).message;
        }
      } catch (error) {
        asked.stopError = error.message;
      }
    }
    asked.stopped = true;
    asked.controller.abort();
  }

  // Wake-ahead: the prompt box got focus, so a prompt is likely coming; start the node
  // now and the cold start runs while the user types. At most once per idle period (a
  // wake, or a reply, keeps the node up that long), never while a prompt is on its way,
  // and never past a hold: a focus is no prompt, so the owner's Stop GPU stays in force
  // (GET /status first). A hint: whatever fails is only logged, and typing never waits.
  async function wakeAhead() {
    if (localStorage.getItem(WAKE_KEY) === "off" || state.busy || wake.pending) return;
    if (Date.now() - wake.upSince < idleMinutes() * 60000) return;
    wake.pending = true;
    try {
      const status = await refreshNode();
      if (!status || status.hold) return;
      wake.upSince = Date.now();
      const body = JSON.stringify({ idle: idleMinutes() });
      const headers = authorised({ "Content-Type": "application/json" });
      const response = await withToken(() => send("wake", { method: "POST", headers, body }));
      if (!response.ok) return console.debug("wake-ahead refused", response.status);
      const woken = await response.json();
      byId("node").textContent = NODE_WORDS[woken.node] ?? woken.node;
    } catch (error) {
      console.debug("wake-ahead failed", error.message);
    } finally {
      wake.pending = false;
    }
  }

  // One reply for `messages`: streamed where the router streams, else the whole reply at
  // once. A router from before streaming refuses `stream` (400 naming it): the page then
  // asks without it, for the rest of this visit.
  async function ask(messages, idle, progress, asked) {
    const body = { model: state.model, messages, idle };
    if (!state.streamRefused) {
      const streamed = { ...body, stream: true, stream_options: { include_usage: true } };
      try {
        return await complete(streamed, progress, asked);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 400 && error.param === "stream")) {
          throw error;
        }
        state.streamRefused = true;
      }
    }
    return complete(body, progress, asked);
  }

  // POST the same body until it is answered: after a 503 or 429 with Retry-After, wait that
  // long and send it again with the next try number, which resumes the same job.
  async function complete(body, progress, asked) {
    const { signal } = asked.controller;
    for (let attempt = 0; ; attempt += 1) {
      const response = await withToken(() =>
        send("v1/chat/completions", {
          method: "POST",
          headers: authorised({
            "Content-Type": "application/json",
            [RETRY_COUNT_HEADER]: String(attempt),
          }),
          body: JSON.stringify(body),
          signal,
        }),
      );
      const type = response.headers.get("content-type") ?? "";
      if (response.ok && type.startsWith("text/event-stream")) {
        return readStream(response, progress, asked);
      }
      if (response.ok) {
        return wholeReply(await response.json(), progress);
      }
      const wait = retryAfterOf(response);
      const error = await errorOf(response);
      if (wait === null || attempt >= MAX_RETRIES) throw error;
      const stopped = new Promise((resolve) => signal.addEventListener("abort", resolve));
      await Promise.race([progress.retryIn(wait), stopped]);
      if (signal.aborted) throw new ApiError("stopped", 0);
    }
  }

  function wholeReply(completion, progress) {
    const choice = completion.choices[0];
    const reply = {
      text: choice.message.content ?? "",
      finish: choice.finish_reason,
      usage: completion.usage ?? null,
    };
    progress.text(reply.text);
    return reply;
  }

  // OpenAI's stream: chat.completion.chunk events whose deltas append to the text, a usage
  // chunk (stream_options.include_usage) and `data: [DONE]`; comments are the keep-alives
  // the router sends while the node starts; an {"error": ...} event is a failure after the
  // 200 was sent.
  // Each chunk's id is "chatcmpl-" and the job's id: what Stop cancels (POST /cancel/{id}).
  async function readStream(response, progress, asked) {
    const reply = { text: "", finish: null, usage: null };
    const finished = await forEachEvent(response.body, {
      comment: () => progress.keepAlive(),
      data: (data) => {
        if (data === "[DONE]") return true;
        const chunk = JSON.parse(data);
        if (!asked.jobId && typeof chunk.id === "string" && chunk.id.startsWith("chatcmpl-")) {
          asked.jobId = chunk.id.slice("chatcmpl-".length);
        }
        if (chunk.error) {
          throw new ApiError(chunk.error.message ?? "the reply failed", 200);
        }
        if (chunk.usage) reply.usage = chunk.usage;
        for (const choice of chunk.choices ?? []) {
          const piece = choice.delta?.content;
          if (piece) {
            reply.text += piece;
            progress.text(reply.text);
          }
          if (choice.finish_reason) reply.finish = choice.finish_reason;
        }
        return false;
      },
    });
    if (!finished) throw new ApiError("the reply's stream ended before it was complete", 0);
    return reply;
  }

  // Server-sent events, parsed as the HTML standard says for the parts OpenAI's streams use:
  // a line ends in LF (or CRLF); a line starting with ":" is a comment; the "data:" lines
  // of an event, joined by LF, are dispatched at the blank line that ends it; other fields
  // (event, id, retry) are not used. Resolves true once on.data returns true ([DONE]),
  // false if the stream ends first.
  async function forEachEvent(stream, on) {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let data = [];
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        buffer += value;
        let end = buffer.indexOf("\n");
        while (end >= 0) {
          const line = buffer.slice(0, end).replace(/\r$/, "");
          buffer = buffer.slice(end + 1);
          if (line === "") {
            if (data.length > 0 && on.data(data.join("\n"))) return true;
            data = [];
          } else if (line.startsWith(":")) {
            on.comment();
          } else if (line.startsWith("data:")) {
            data.push(line.slice(5).replace(/^ /, ""));
          }
          end = buffer.indexOf("\n");
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  // --- signing in ------------------------------------------------------------------

  function storeTokens(access, refresh) {
    sessionStorage.setItem(TOKEN_KEY, access);
    if (refresh) sessionStorage.setItem(REFRESH_KEY, refresh);
  }

  function forgetTokens() {
    for (const key of [TOKEN_KEY, REFRESH_KEY, PKCE_KEY]) sessionStorage.removeItem(key);
  }

  // This page's own address, without query or fragment: the redirect_uri, exactly as the
  // app client's callback URL names it (Cognito compares them character by character).
  function pageUrl() {
    return `${location.origin}${location.pathname}`;
  }

  function base64url(bytes) {
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomText(bytes) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  // PKCE (RFC 7636), as the desktop window does it (gui/pkce.py): 64 random bytes make an
  // 86-character verifier of the unreserved set; Cognito supports only S256, the
  // challenge base64url(SHA-256(verifier)) without padding.
  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(verifier));
    return base64url(new Uint8Array(digest));
  }

  // To the hosted UI, which sends the browser back to this page with ?code=...&state=...
  async function goToHostedUi() {
    const verifier = randomText(64);
    // The state ties the code that comes back to this tab's own request (RFC 6749 10.12).
    const stateValue = randomText(32);
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ state: stateValue, verifier }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: signInWith.client_id,
      redirect_uri: pageUrl(),
      state: stateValue,
      scope: signInWith.scopes,
      code_challenge_method: "S256",
      code_challenge: await challengeOf(verifier),
    });
    location.assign(`${signInWith.hosted_ui}/oauth2/authorize?${query}`);
  }

  // Back from the hosted UI: the code, redeemed with the verifier only if the state is the
  // one this tab sent. The query leaves the address bar (and history) at once.
  async function finishHostedUi(query) {
    history.replaceState(null, "", pageUrl());
    const started = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? "null");
    sessionStorage.removeItem(PKCE_KEY);
    if (query.has("error")) {
      throw new ApiError(`the sign-in did not complete (${query.get("error")}): sign in again`, 0);
    }
    if (!started || query.get("state") !== started.state) {
      throw new ApiError("that sign-in was not started from this tab: sign in again", 0);
    }
    const tokens = await tokenGrant({
      grant_type: "authorization_code",
      client_id: signInWith.client_id,
      code: query.get("code") ?? "",
      redirect_uri: pageUrl(),
      code_verifier: started.verifier,
    });
    storeTokens(tokens.access_token, tokens.refresh_token);
  }

  // Cognito's token endpoint (/oauth2/token), called from the page: a public client, no
  // secret. Errors are {"error": "invalid_grant"} and the like.
  async function tokenGrant(form) {
    let response;
    try {
      response = await fetch(`${signInWith.hosted_ui}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
      });
    } catch (error) {
      throw new ApiError(`Cognito could not be reached (${error.message})`, 0);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: said by the status alone
    }
    if (!response.ok || typeof body?.access_token !== "string") {
      const why = typeof body?.error === "string" ? body.error : `HTTP ${response.status}`;
      throw new ApiError(`Cognito refused the sign-in (${why}): sign in again`, 401);
    }
    return body;
  }

  // The local stack's demo user: Cognito's InitiateAuth (USER_PASSWORD_AUTH) at the
  // emulator, as `tlfif login` does it, with the user and password the router serves
  // there (never deployed: tlfif/settings.py refuses it behind API Gateway).
  async function demoSignIn() {
    let response;
    try {
      response = await fetch(signInWith.cognito_url, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        body: JSON.stringify({
          AuthFlow: "USER_PASSWORD_AUTH",
          ClientId: signInWith.client_id,
          AuthParameters: { USERNAME: signInWith.username, PASSWORD: signInWith.password },
        }),
      });
    } catch (error) {
      throw new ApiError(`the local Cognito could not be reached (${error.message})`, 0);
    }
    const body = await response.json().catch(() => null);
    const result = body?.AuthenticationResult;
    if (!response.ok || typeof result?.AccessToken !== "string") {
      const why = body?.message ?? body?.__type ?? `HTTP ${response.status}`;
      throw new ApiError(`the demo user could not sign in (${why})`, 401);
    }
    storeTokens(result.AccessToken, result.RefreshToken);
  }

  // A new access token after a 401: the refresh grant (hosted UI), the demo user's sign-in
  // again (local stack); a pasted token cannot be renewed. False where none came.
  async function renewToken() {
    try {
      const refresh = sessionStorage.getItem(REFRESH_KEY);
      if (mode === "hosted-ui" && refresh) {
        const tokens = await tokenGrant({
          grant_type: "refresh_token",
          client_id: signInWith.client_id,
          refresh_token: refresh,
        });
        storeTokens(tokens.access_token, null);
        return true;
      }
      if (mode === "demo") {
        await demoSignIn();
        return true;
      }
    } catch {
      // said by the 401 the caller goes on with
    }
    return false;
  }

  // --- the page ----------------------------------------------------------------------

  function showError(message) {
    const error = byId("error");
    error.textContent = message;
    error.hidden = !message;
  }

  function setStatus(words) {
    byId("status").textContent = words;
  }

  function showSignIn() {
    byId("sign-in").hidden = false;
    byId("chat").hidden = true;
    byId("sign-out").hidden = true;
    byId("stop-gpu").hidden = true;
    byId("model").textContent = "";
    byId("node").textContent = "";
    byId("nodes").textContent = "";
    const pasted = mode === "paste";
    byId("sign-in-form").hidden = !pasted;
    byId("sign-in-account").hidden = pasted;
    byId("sign-in-hint").textContent =
      mode === "hosted-ui"
        ? "Sign in with your TL-FIF account on Cognito's page; it sends you back here."
        : `Sign in as the local stack's demo user (${signInWith.username}).`;
    (pasted ? byId("token") : byId("sign-in-start")).focus();
  }

  function showChat() {
    byId("sign-in").hidden = true;
    byId("chat").hidden = false;
    byId("sign-out").hidden = false;
    byId("model").textContent = state.model;
    byId("prompt").focus();
  }

  // The header's node word, and Stop GPU for the deployment's owner only (the router
  // refuses anyone else's POST /stop with a 403 all the same).
  function showNode(status) {
    if (!status) return;
    state.owner = status.owner === true;
    byId("stop-gpu").hidden = !state.owner;
    const held = status.hold ? ` (held: ${status.hold})` : "";
    byId("node").textContent = `${NODE_WORDS[status.node] ?? status.node}${held}`;
    byId("nodes").textContent = eachNodeWords(status.nodes);
  }

  // With several GPU nodes, each one's phase (and jobs), in id order, as the window says it:
  // "2 GPUs: ready (1 job), booting". One node, or a router that sends no `nodes`: nothing.
  function eachNodeWords(nodes) {
    if (!Array.isArray(nodes) || nodes.length < 2) return "";
    const words = nodes.map(({ phase, active }) =>
      active > 0 ? `${phase} (${active} job${active > 1 ? "s" : ""})` : phase,
    );
    return `${nodes.length} GPUs: ${words.join(", ")}`;
  }

  async function refreshNode() {
    const status = await fetchStatus();
    showNode(status);
    return status;
  }

  // While a reply is on its way, Send is Stop.
  function setBusy(busy) {
    state.busy = busy;
    const button = byId("send");
    button.textContent = busy ? "Stop" : "Send";
    button.title = busy ? "stop this reply; its text so far stays" : "";
    button.classList.toggle("stop", busy);
    button.disabled = false;
    byId("new-chat").disabled = busy;
  }

  function addTurn(role, text) {
    const turn = document.createElement("li");
    turn.className = `turn ${role}`;
    const body = document.createElement("p");
    body.className = "text";
    body.textContent = text;
    turn.append(body);
    byId("conversation").append(turn);
    turn.scrollIntoView({ block: "end" });
    return turn;
  }

  function showUsage(turn, reply, seconds) {
    const line = document.createElement("p");
    line.className = "usage";
    const parts = reply.stopped ? ["stopped"] : [];
    if (reply.usage) {
      const { prompt_tokens: prompt, completion_tokens: completion } = reply.usage;
      parts.push(`${prompt} prompt + ${completion} completion tokens`);
    }
    parts.push(`${seconds.toFixed(1)} s`);
    if (reply.finish === "length") parts.push("cut at the token limit");
    line.textContent = parts.join(" · ");
    turn.append(line);
  }

  // The status line while a reply is on its way, as the CLI shows it: the phase in words
  // and the seconds since the prompt was sent. The phase comes from GET /status, asked
  // every PHASE_POLL_MS until the first text; a keep-alive or a 503 to retry says the node
  // is starting where /status cannot be read. Then the countdown to the next try.
  function progressFor(turn) {
    const started = Date.now();
    const seen = { phase: null, starting: false, retryAt: 0, text: false };
    const render = () => {
      if (seen.text) return setStatus("");
      const elapsed = Math.floor((Date.now() - started) / 1000);
      let words = WAITING_WORDS[seen.phase];
      if (!words) words = seen.starting ? WAITING_WORDS.starting : "sending";
      words = `${words}… ${elapsed} s`;
      if (seen.retryAt) {
        const left = Math.max(0, Math.ceil((seen.retryAt - Date.now()) / 1000));
        words += ` · asking again in ${left} s`;
      }
      setStatus(words);
    };
    const timer = setInterval(render, TICK_MS);
    let polling = true;
    const poll = async () => {
      const status = await fetchStatus();
      if (!polling) return;
      if (status) {
        seen.phase = status.node;
        showNode(status);
        render();
      }
      setTimeout(() => polling && !seen.text && poll(), PHASE_POLL_MS);
    };
    const firstPoll = setTimeout(poll, PHASE_POLL_MS / 2); // a warm reply needs none
    render();
    return {
      keepAlive() {
        seen.starting = true;
        render();
      },
      retryIn(seconds) {
        seen.starting = true;
        seen.retryAt = Date.now() + seconds * 1000;
        render();
        return new Promise((resolve) => {
          setTimeout(() => {
            seen.retryAt = 0;
            render();
            resolve();
          }, seconds * 1000);
        });
      },
      text(text) {
        seen.text = true;
        turn.querySelector(".text").textContent = text;
        render();
      },
      seconds() {
        return (Date.now() - started) / 1000;
      },
      stop() {
        polling = false;
        clearTimeout(firstPoll);
        clearInterval(timer);
        setStatus("");
      },
    };
  }

  // The latest turns whose content fits the router's cap, starting with a user turn (chat
  // templates want user and assistant turns to alternate from a user's).
  function fitting(messages) {
    const size = (message) => encoder.encode(message.content).length;
    let total = messages.reduce((sum, message) => sum + size(message), 0);
    let first = 0;
    const last = messages.length - 1;
    while (first < last && (total > MAX_CONTENT_BYTES || messages[first].role !== "user")) {
      total -= size(messages[first]);
      first += 1;
    }
    return messages.slice(first);
  }

  // The idle minutes the box says, within the router's 1-30; its default otherwise.
  function idleMinutes() {
    const minutes = Number.parseInt(byId("idle").value, 10);
    if (!Number.isFinite(minutes)) return DEFAULT_IDLE_MINUTES;
    return Math.min(30, Math.max(1, minutes));
  }

  async function onPrompt(event) {
    event.preventDefault();
    const box = byId("prompt");
    const content = box.value.trim();
    if (!content || state.busy) return;
    showError("");
    setBusy(true);
    box.value = "";
    state.messages.push({ role: "user", content });
    addTurn("user", content);
    const turn = addTurn("assistant", "");
    const progress = progressFor(turn);
    const asked = { controller: new AbortController(), jobId: null };
    flight = asked;
    try {
      const reply = await ask(fitting(state.messages), idleMinutes(), progress, asked);
      state.messages.push({ role: "assistant", content: reply.text });
      showUsage(turn, reply, progress.seconds());
    } catch (error) {
      if (asked.stop) await asked.stop;
      if (asked.stopped) {
        showStopped(turn, asked, progress.seconds(), content);
      } else {
        failed(turn, error, content);
      }
    } finally {
      flight = null;
      progress.stop();
      setBusy(false);
      wake.upSince = Date.now(); // the node stays up an idle period after a reply
    }
    refreshNode();
  }

  // A stopped reply: its text so far (the cancelled reply's, else what the stream brought)
  // is the answer, marked stopped, and joins the conversation; stopped before any text,
  // the prompt goes back in the box instead.
  function showStopped(turn, asked, seconds, content) {
    const box = byId("prompt");
    const text = asked.cancelledText ?? turn.querySelector(".text").textContent;
    turn.querySelector(".text").textContent = text;
    turn.classList.add("stopped");
    if (text.trim()) {
      state.messages.push({ role: "assistant", content: text });
    } else {
      state.messages.pop();
      if (!box.value.trim()) box.value = content;
    }
    showUsage(turn, { stopped: true, usage: null, finish: null }, seconds);
    if (asked.stopError) showError(`the reply may not be cancelled: ${asked.stopError}`);
  }

  // A failed reply: the prompt goes back in the box, and out of the conversation, to be
  // sent again.
  function failed(turn, error, content) {
    state.messages.pop();
    turn.classList.add("failed");
    byId("prompt").value = content;
    showError(error.message);
    if (error instanceof ApiError && error.status === 401) signOut(false);
  }

  async function onStop() {
    const button = byId("stop-gpu");
    button.disabled = true;
    showError("");
    try {
      const stopping = await stopNode();
      byId("node").textContent = NODE_WORDS.stopping;
      setStatus("the GPU is stopping; your next prompt starts it again");
      if (stopping.node !== "stopping") await refreshNode();
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
    }
  }

  // Check the token with GET /v1/models (which also names the model), then show the chat.
  async function enter() {
    byId("sign-in-button").disabled = true;
    byId("sign-in-start").disabled = true;
    try {
      state.model = await fetchModel();
      showError("");
      showChat();
      refreshNode();
    } catch (error) {
      signOut(false);
      showError(error.message);
    } finally {
      byId("sign-in-button").disabled = false;
      byId("sign-in-start").disabled = false;
    }
  }

  async function signInPasted(given) {
    storeTokens(given.replace(/^Bearer\s+/i, "").trim(), null);
    await enter();
  }

  // The Sign in button of the hosted UI and demo modes.
  async function signInWithAccount() {
    if (mode === "hosted-ui") return goToHostedUi();
    try {
      await demoSignIn();
    } catch (error) {
      showSignIn();
      return showError(error.message);
    }
    return enter();
  }

  // Forget the tokens; on the Sign out button, the conversation too (the tab may be
  // shared), and the hosted UI's session through its /logout, which sends the browser
  // back here (the app client's sign-out URL).
  function signOut(everything) {
    forgetTokens();
    state.model = null;
    state.owner = false;
    if (everything) {
      newChat();
      showError("");
      if (mode === "hosted-ui") {
        const query = new URLSearchParams({
          client_id: signInWith.client_id,
          logout_uri: pageUrl(),
        });
        location.assign(`${signInWith.hosted_ui}/logout?${query}`);
      }
    }
    showSignIn();
  }

  function newChat() {
    state.messages = [];
    byId("conversation").replaceChildren();
  }

  async function start() {
    byId("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const field = byId("token");
      const given = field.value;
      field.value = "";
      if (given.trim()) signInPasted(given);
    });
    byId("sign-in-start").addEventListener("click", signInWithAccount);
    byId("prompt-form").addEventListener("submit", onPrompt);
    byId("send").addEventListener("click", (event) => {
      if (!state.busy) return; // Send: the form's submit
      event.preventDefault();
      stopReply();
    });
    byId("prompt").addEventListener("focus", wakeAhead);
    byId("prompt").addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.busy) stopReply();
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        byId("prompt-form").requestSubmit();
      }
    });
    byId("sign-out").addEventListener("click", () => signOut(true));
    byId("stop-gpu").addEventListener("click", onStop);
    byId("new-chat").addEventListener("click", newChat);
    const query = new URLSearchParams(location.search);
    if (query.get("wake") === "off") localStorage.setItem(WAKE_KEY, "off");
    if (query.get("wake") === "on") localStorage.removeItem(WAKE_KEY);
    if (mode === "hosted-ui" && (query.has("code") || query.has("error"))) {
      try {
        await finishHostedUi(query);
      } catch (error) {
        forgetTokens();
        showSignIn();
        return showError(error.message);
      }
    }
    if (token()) return enter();
    if (mode === "demo") return signInWithAccount();
    return showSignIn();
  }

  start();
})();
