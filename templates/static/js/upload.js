/* Practika's browser uploader: sends a File or Blob straight to storage, in parts.
 *
 *   const upload = PractikaUpload.start(file, {
 *     purpose: "reply",                                  // or "demonstration"
 *     onProgress: ({ loaded, total, fraction }) => …,    // bytes that reached storage
 *     onRetry: ({ part, attempt, waitMs, error }) => …,  // a part failed and will be retried
 *   });
 *   upload.cancel();                                     // aborts requests and the upload
 *   const media = await upload.done;                     // { id, state, error_message }
 *
 * The contract (learning/apis_uploads.py): POST /api/v1/uploads/ returns one URL per part —
 * presigned S3 UploadPart URLs, or the local endpoint with the same behaviour — then each
 * part is PUT to its URL, its ETag header kept, and the list [{number, etag}] is POSTed to
 * complete_url. In S3 mode the bucket's CORS rules must allow PUT from the site and expose
 * the ETag header.
 *
 * A failed part (network error, 5xx, 408, 429) is retried with exponential backoff and
 * jitter; while the browser is offline the uploader waits for it to come back. Cancelling
 * aborts the requests in flight (AbortController) and deletes the upload on the server.
 * XMLHttpRequest is used for parts because fetch() cannot report upload progress.
 */
(function (global) {
  "use strict";

  const API_START = "/api/v1/uploads/";
  const PARALLEL_PARTS = 3;
  const MAX_ATTEMPTS = 8;
  const BASE_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;

  class UploadError extends Error {
    constructor(message, { status = 0, code = "", cancelled = false } = {}) {
      super(message);
      this.name = "UploadError";
      this.status = status;
      this.code = code;
      this.cancelled = cancelled;
    }
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function sameOrigin(url) {
    return new URL(url, location.href).origin === location.origin;
  }

  function cancelledError() {
    return new UploadError("The upload was cancelled.", { cancelled: true });
  }

  /* Whether trying the same request again may succeed. */
  function isTransient(error) {
    if (error.cancelled) return false;
    const status = error.status || 0;
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  function backoff(attempt) {
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
    return Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(cancelledError());
      const timer = setTimeout(done, ms);
      function done() { signal.removeEventListener("abort", stop); resolve(); }
      function stop() { clearTimeout(timer); reject(cancelledError()); }
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  /* Resolves at once when online, else when the browser says the network is back. */
  function online(signal) {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise((resolve, reject) => {
      function back() { signal.removeEventListener("abort", stop); resolve(); }
      function stop() { global.removeEventListener("online", back); reject(cancelledError()); }
      global.addEventListener("online", back, { once: true });
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  async function api(url, { method = "GET", body, signal, keepalive = false } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    let response;
    try {
      response = await fetch(url, {
        method, headers, signal, keepalive, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (signal && signal.aborted) throw cancelledError();
      throw new UploadError("The connection dropped.");
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (error) { data = null; }
    }
    if (!response.ok) {
      throw new UploadError((data && data.message) || `The server answered ${response.status}.`, {
        status: response.status, code: (data && data.code) || "",
      });
    }
    return data;
  }

  /* PUT one part; resolves with its ETag. */
  function putPart(url, blob, { signal, onProgress }) {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(cancelledError());
      const xhr = new XMLHttpRequest();
      const abort = () => xhr.abort();
      signal.addEventListener("abort", abort, { once: true });
      const finish = (fn, value) => { signal.removeEventListener("abort", abort); fn(value); };
      xhr.open("PUT", url);
      // Only our own endpoint gets the CSRF header: S3 would need it allowed by CORS.
      if (sameOrigin(url)) xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded); };
      xhr.onload = () => {
        const etag = xhr.getResponseHeader("ETag");
        if (xhr.status >= 200 && xhr.status < 300 && etag) return finish(resolve, etag);
        let message = `The part upload answered ${xhr.status}.`;
        try { message = JSON.parse(xhr.responseText).message || message; } catch (error) { /* S3 XML */ }
        if (xhr.status === 200 && !etag) message = "Storage did not expose the ETag header (CORS).";
        finish(reject, new UploadError(message, { status: xhr.status }));
      };
      xhr.onerror = () => finish(reject, new UploadError("The connection dropped."));
      xhr.ontimeout = () => finish(reject, new UploadError("The connection timed out.", { status: 408 }));
      xhr.onabort = () => finish(reject, cancelledError());
      xhr.send(blob);
    });
  }

  /* Run `attempt` until it succeeds, retrying transient failures with backoff. */
  async function withRetries(attemptFn, { signal, onRetry, part }) {
    for (let attempt = 1; ; attempt += 1) {
      await online(signal);
      try {
        return await attemptFn();
      } catch (error) {
        if (!isTransient(error) || attempt >= MAX_ATTEMPTS) throw error;
        const waitMs = backoff(attempt);
        if (onRetry) onRetry({ part, attempt, waitMs, error });
        await sleep(waitMs, signal);
      }
    }
  }

  function start(file, options = {}) {
    const controller = new AbortController();
    const signal = controller.signal;
    const onProgress = options.onProgress || (() => {});
    const onRetry = options.onRetry || null;
    const total = file.size;
    const loadedByPart = new Map();
    let ticket = null;

    function report() {
      let loaded = 0;
      loadedByPart.forEach((bytes) => { loaded += bytes; });
      onProgress({ loaded, total, fraction: total ? Math.min(1, loaded / total) : 1 });
    }

    async function sendPart(part) {
      const begin = (part.number - 1) * ticket.part_size;
      const blob = file.slice(begin, Math.min(begin + ticket.part_size, total));
      const etag = await withRetries(
        () => putPart(part.url, blob, {
          signal,
          onProgress: (loaded) => { loadedByPart.set(part.number, loaded); report(); },
        }).catch((error) => { loadedByPart.set(part.number, 0); report(); throw error; }),
        { signal, onRetry, part: part.number },
      );
      loadedByPart.set(part.number, blob.size);
      report();
      return { number: part.number, etag };
    }

    async function run() {
      ticket = await withRetries(() => api(options.startUrl || API_START, {
        method: "POST", signal,
        body: {
          purpose: options.purpose || "reply",
          filename: file.name || options.filename || "recording.webm",
          size: total,
          content_type: file.type || "",
        },
      }), { signal, onRetry, part: 0 });
      report();
      // A few parts at a time: faster on good connections, and one slow part does not stall.
      const queue = ticket.parts.slice();
      const done = [];
      async function worker() {
        while (queue.length) done.push(await sendPart(queue.shift()));
      }
      await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker));
      done.sort((a, b) => a.number - b.number);
      // Completing twice is harmless on the server, so a dropped answer is simply retried.
      return withRetries(
        () => api(ticket.complete_url, { method: "POST", body: { parts: done }, signal }),
        { signal, onRetry, part: 0 },
      );
    }

    const finished = run().catch((error) => {
      if (signal.aborted) throw cancelledError();
      throw error;
    });

    return {
      done: finished,
      get media() { return ticket ? ticket.media : null; },
      cancel() {
        if (signal.aborted) return;
        controller.abort();
        if (ticket) {
          // keepalive lets the request finish even if the page is being closed.
          api(ticket.abort_url, { method: "DELETE", keepalive: true }).catch(() => {});
        }
      },
    };
  }

  /* Poll a media file until it is ready or failed; calls onState on every change. */
  async function watch(mediaId, { onState = () => {}, intervalMs = 2000, signal } = {}) {
    let last = null;
    for (;;) {
      let media = null;
      try { media = await api(`/api/v1/media/${mediaId}/`, { signal }); } catch (error) {
        if (error.cancelled || (signal && signal.aborted)) throw cancelledError();
        if (!isTransient(error)) throw error;
      }
      if (media && media.state !== last) { last = media.state; onState(media); }
      if (media && (media.state === "ready" || media.state === "failed")) return media;
      await sleep(intervalMs, signal || new AbortController().signal);
    }
  }

  global.PractikaUpload = { start, watch, UploadError };
})(window);
