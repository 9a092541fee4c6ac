// The TL-FIF chat page: sign in with a pasted access token, then talk to the router's
// POST /v1/chat/completions, streamed, keeping the conversation in the page.
//
// Plain script, no build step and no third-party code: the page works offline, under a
// Content-Security-Policy that allows this origin's own files only (router/chat_page.py).
// Every text the page shows goes in with textContent, never as HTML.
"use strict";

(() => {
  // sessionStorage, never localStorage: the token is a bearer credential, as good as the
  // password for its hour. sessionStorage belongs to this tab alone and is gone when the
  // tab closes; localStorage would keep it on disk, for every tab of this origin, until
  // someone clears it.
  const TOKEN_KEY = "tlfif.token";
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

  const byId = (id) => document.getElementById(id);
  const encoder = new TextEncoder();
  const state = { model: null, messages: [], busy: false, streamRefused: false };

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

  async function fetchModel() {
    const response = await send("v1/models", { headers: authorised() });
    if (!response.ok) throw await errorOf(response);
    const listing = await response.json();
    return listing.data[0].id;
  }

  // One reply for `messages`: streamed where the router streams, else the whole reply at
  // once. A router from before streaming refuses `stream` (400 naming it): the page then
  // asks without it, for the rest of this visit.
  async function ask(messages, progress) {
    const body = { model: state.model, messages };
    if (!state.streamRefused) {
      const streamed = { ...body, stream: true, stream_options: { include_usage: true } };
      try {
        return await complete(streamed, progress);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 400 && error.param === "stream")) {
          throw error;
        }
        state.streamRefused = true;
      }
    }
    return complete(body, progress);
  }

  // POST the same body until it is answered: after a 503 or 429 with Retry-After, wait that
  // long and send it again with the next try number, which resumes the same job.
  async function complete(body, progress) {
    for (let attempt = 0; ; attempt += 1) {
      const response = await send("v1/chat/completions", {
        method: "POST",
        headers: authorised({
          "Content-Type": "application/json",
          [RETRY_COUNT_HEADER]: String(attempt),
        }),
        body: JSON.stringify(body),
      });
      const type = response.headers.get("content-type") ?? "";
      if (response.ok && type.startsWith("text/event-stream")) {
        return readStream(response, progress);
      }
      if (response.ok) {
        return wholeReply(await response.json(), progress);
      }
      const wait = retryAfterOf(response);
      const error = await errorOf(response);
      if (wait === null || attempt >= MAX_RETRIES) throw error;
      await progress.retryIn(wait);
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
  async function readStream(response, progress) {
    const reply = { text: "", finish: null, usage: null };
    const finished = await forEachEvent(response.body, {
      comment: () => progress.keepAlive(),
      data: (data) => {
        if (data === "[DONE]") return true;
        const chunk = JSON.parse(data);
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
    byId("model").textContent = "";
    byId("token").focus();
  }

  function showChat() {
    byId("sign-in").hidden = true;
    byId("chat").hidden = false;
    byId("sign-out").hidden = false;
    byId("model").textContent = state.model;
    byId("prompt").focus();
  }

  function setBusy(busy) {
    state.busy = busy;
    byId("send").disabled = busy;
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
    const parts = [];
    if (reply.usage) {
      const { prompt_tokens: prompt, completion_tokens: completion } = reply.usage;
      parts.push(`${prompt} prompt + ${completion} completion tokens`);
    }
    parts.push(`${seconds.toFixed(1)} s`);
    if (reply.finish === "length") parts.push("cut at the token limit");
    line.textContent = parts.join(" · ");
    turn.append(line);
  }

  // The status line while a reply is on its way: the elapsed seconds, "starting the GPU…"
  // once the router says the node is not up yet (a keep-alive, or a 503 to retry), and the
  // countdown to the next try.
  function progressFor(turn) {
    const started = Date.now();
    const seen = { starting: false, retryAt: 0, text: false };
    const render = () => {
      if (seen.text) return setStatus("");
      const elapsed = Math.floor((Date.now() - started) / 1000);
      let words = seen.starting
        ? `starting the GPU… ${elapsed} s`
        : `waiting for the reply… ${elapsed} s`;
      if (seen.retryAt) {
        const left = Math.max(0, Math.ceil((seen.retryAt - Date.now()) / 1000));
        words += ` · asking again in ${left} s`;
      }
      setStatus(words);
    };
    const timer = setInterval(render, TICK_MS);
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
    try {
      const reply = await ask(fitting(state.messages), progress);
      state.messages.push({ role: "assistant", content: reply.text });
      showUsage(turn, reply, progress.seconds());
    } catch (error) {
      // The prompt goes back in the box, and out of the conversation, to be sent again.
      state.messages.pop();
      turn.classList.add("failed");
      box.value = content;
      showError(error.message);
      if (error instanceof ApiError && error.status === 401) signOut(false);
    } finally {
      progress.stop();
      setBusy(false);
    }
  }

  async function signIn(given) {
    sessionStorage.setItem(TOKEN_KEY, given.replace(/^Bearer\s+/i, "").trim());
    byId("sign-in-button").disabled = true;
    try {
      state.model = await fetchModel();
      showError("");
      showChat();
    } catch (error) {
      signOut(false);
      showError(error.message);
    } finally {
      byId("sign-in-button").disabled = false;
    }
  }

  // Forget the token; on the Sign out button, the conversation too (the tab may be shared).
  function signOut(everything) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.model = null;
    if (everything) {
      newChat();
      showError("");
    }
    showSignIn();
  }

  function newChat() {
    state.messages = [];
    byId("conversation").replaceChildren();
  }

  function start() {
    byId("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const field = byId("token");
      const given = field.value;
      field.value = "";
      if (given.trim()) signIn(given);
    });
    byId("prompt-form").addEventListener("submit", onPrompt);
    byId("prompt").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        byId("prompt-form").requestSubmit();
      }
    });
    byId("sign-out").addEventListener("click", () => signOut(true));
    byId("new-chat").addEventListener("click", newChat);
    const kept = token();
    if (kept) {
      signIn(kept);
    } else {
      showSignIn();
    }
  }

  start();
})();
