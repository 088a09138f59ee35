/* Core-loop pages: the uploader, live media states, tabs, and the assign-to toggle.
 *
 * Uploads go straight to storage through the upload API (/api/v1/uploads/): start, PUT each
 * part to the URL it names (presigned S3 or the local endpoint), complete. A failed part is
 * retried with backoff; Cancel aborts the request in flight and the upload on the server.
 * User-provided text is only ever set with textContent.
 */
import { api, sameOrigin } from "./lib/api.js";
import { csrfToken } from "./lib/csrf.js";
import { formatBytes } from "./lib/format.js";

(function () {
  "use strict";

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  /* --- Uploader ------------------------------------------------------------------------- */

  function putPart(url, blob, onProgress, state) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      state.xhr = xhr;
      xhr.open("PUT", url);
      if (sameOrigin(url)) xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded); };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag"));
        else {
          const error = new Error(`Part upload answered ${xhr.status}.`);
          error.status = xhr.status;
          reject(error);
        }
      };
      xhr.onerror = () => reject(new Error("The connection dropped."));
      xhr.onabort = () => reject(Object.assign(new Error("Cancelled."), { cancelled: true }));
      xhr.send(blob);
    });
  }

  class Uploader {
    constructor(root) {
      this.root = root;
      this.form = root.closest("form");
      this.target = this.form.querySelector(`input[name="${root.dataset.target}"]`);
      this.input = root.querySelector("[data-upload-input]");
      this.box = root.querySelector("[data-upload-progress]");
      this.bar = root.querySelector("[data-upload-bar]");
      this.pct = root.querySelector("[data-upload-pct]");
      this.name = root.querySelector("[data-upload-name]");
      this.status = root.querySelector("[data-upload-status]");
      this.cancelButton = root.querySelector("[data-upload-cancel]");
      this.state = null;
      this.input.addEventListener("change", () => {
        if (this.input.files[0]) this.upload(this.input.files[0]);
      });
      const zone = root.querySelector(".dropzone");
      zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragover"); });
      zone.addEventListener("dragleave", () => zone.classList.remove("dragover"));
      zone.addEventListener("drop", (e) => {
        e.preventDefault();
        zone.classList.remove("dragover");
        if (e.dataTransfer.files[0]) this.upload(e.dataTransfer.files[0]);
      });
      this.cancelButton.addEventListener("click", () => this.cancel());
      root.uploader = this;
    }

    say(text) { this.status.textContent = text; }

    /* `done` counts only bytes the server has acknowledged (whole parts it answered for):
     * the browser's own upload events count bytes handed to the network, which run ahead. */
    progress(done, total) {
      const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      this.bar.value = pct;
      this.pct.textContent = `${pct}%`;
    }

    async upload(file) {
      if (this.state) await this.cancel();
      const max = Number(this.root.dataset.maxBytes || 0);
      this.box.hidden = false;
      this.root.classList.remove("done");
      this.name.textContent = file.name || "recording";
      this.cancelButton.hidden = false;
      this.target.value = "";
      this.emit("practika:upload-started", {});
      if (max && file.size > max) {
        this.say(`This file is ${formatBytes(file.size)}; the limit is ${formatBytes(max)}.`);
        this.cancelButton.hidden = true;
        return;
      }
      if (file.size === 0) {
        this.say("This file is empty (0 bytes): nothing was recorded. Choose another file or record a new take.");
        this.cancelButton.hidden = true;
        return;
      }
      const state = (this.state = { cancelled: false, xhr: null, ticket: null });
      this.progress(0, file.size);
      this.say("Starting upload…");
      try {
        const ticket = await api("/api/v1/uploads/", {
          method: "POST",
          body: JSON.stringify({
            purpose: this.root.dataset.purpose,
            filename: file.name || "recording.webm",
            size: file.size,
            content_type: file.type || "",
          }),
        });
        state.ticket = ticket;
        const parts = [];
        let sent = 0;
        for (const part of ticket.parts) {
          const start = (part.number - 1) * ticket.part_size;
          const blob = file.slice(start, Math.min(start + ticket.part_size, file.size));
          let etag = null;
          for (let attempt = 1; ; attempt += 1) {
            if (state.cancelled) throw Object.assign(new Error("Cancelled."), { cancelled: true });
            try {
              const label = ticket.parts.length > 1 ? ` (part ${part.number} of ${ticket.parts.length})` : "";
              etag = await putPart(part.url, blob, () => this.say(`Uploading… ${formatBytes(sent)} of ${formatBytes(file.size)} received${label}`), state);
              break;
            } catch (error) {
              if (error.cancelled || attempt >= 6 || (error.status && error.status < 500 && error.status !== 408 && error.status !== 429)) throw error;
              const wait = Math.min(30000, 1000 * 2 ** (attempt - 1));
              this.say(`Connection problem; retrying in ${Math.round(wait / 1000)} s (attempt ${attempt + 1})…`);
              await sleep(wait);
            }
          }
          sent += blob.size;
          parts.push({ number: part.number, etag });
          this.progress(sent, file.size);
          this.say(`Uploading… ${formatBytes(sent)} of ${formatBytes(file.size)} received`);
        }
        this.say("Finishing…");
        const media = await api(ticket.complete_url, { method: "POST", body: JSON.stringify({ parts }) });
        this.state = null;
        this.cancelButton.hidden = true;
        this.root.classList.add("done");
        this.target.value = media.id;
        this.say(media.state === "failed" ? (media.error_message || "The file was refused.") : "Uploaded. Processing starts now.");
        this.emit("practika:uploaded", { media });
      } catch (error) {
        this.state = null;
        if (error.cancelled) {
          this.say("Upload cancelled.");
        } else {
          this.say(error.message || "The upload failed. Try again.");
          this.cancelButton.hidden = true;
        }
      }
    }

    async cancel() {
      const state = this.state;
      if (!state) return;
      state.cancelled = true;
      if (state.xhr) state.xhr.abort();
      this.state = null;
      this.cancelButton.hidden = true;
      this.input.value = "";
      this.progress(0, 1);
      this.say("Upload cancelled.");
      if (state.ticket) {
        try { await api(state.ticket.abort_url, { method: "DELETE" }); } catch (e) { /* already gone */ }
      }
      this.emit("practika:upload-cancelled", {});
    }

    emit(name, detail) { this.root.dispatchEvent(new CustomEvent(name, { bubbles: true, detail })); }
  }

  /* --- Live media states ---------------------------------------------------------------- */

  const LABELS = { awaiting_upload: "Awaiting upload", uploaded: "Uploaded", processing: "Processing", ready: "Ready", failed: "Failed" };

  function pollMedia(badge) {
    const id = badge.dataset.mediaId;
    if (!id) return;
    const error = badge.parentElement.querySelector("[data-media-error]");
    let last = [...badge.classList].find((c) => c.startsWith("state-"))?.slice(6);
    if (last === "ready" || last === "failed") return;
    const timer = setInterval(async () => {
      let media;
      try { media = await api(`/api/v1/media/${id}/`); } catch (e) { return; }
      if (media.state !== last) {
        badge.className = badge.className.replace(/state-\S+/, `state-${media.state}`);
        badge.querySelector("[data-media-label]").textContent = LABELS[media.state] || media.state;
        last = media.state;
      }
      if (media.state === "failed" && error) {
        error.textContent = media.error_message;
        error.hidden = false;
      }
      if (media.state === "ready" || media.state === "failed") {
        clearInterval(timer);
        if (media.state === "ready" && badge.hasAttribute("data-reload-on-ready")) location.reload();
      }
    }, 2000);
  }

  /* --- Small page behaviours ------------------------------------------------------------ */

  function tabs() {
    document.querySelectorAll("[role=tablist]").forEach((list) => {
      const buttons = [...list.querySelectorAll("[role=tab]")];
      buttons.forEach((button) => button.addEventListener("click", () => {
        buttons.forEach((b) => {
          const selected = b === button;
          b.setAttribute("aria-selected", String(selected));
          document.getElementById(b.dataset.tab).hidden = !selected;
        });
        document.dispatchEvent(new CustomEvent("practika:tab", { detail: { tab: button.dataset.tab } }));
      }));
    });
  }

  function assignToggle() {
    const fieldset = document.querySelector("[data-assign]");
    if (!fieldset) return;
    const some = fieldset.querySelector("[data-assign-some]");
    const update = () => {
      const checked = fieldset.querySelector("input[name=assign]:checked");
      some.hidden = !checked || checked.value !== "some";
    };
    fieldset.addEventListener("change", update);
    update();
  }

  function replyForm() {
    const form = document.querySelector("[data-reply-form]");
    if (!form) return;
    const submit = form.querySelector("[data-reply-submit]");
    const hint = form.querySelector("[data-reply-hint]");
    const media = form.querySelector("input[name=media]");
    const update = (text) => {
      submit.disabled = !media.value;
      hint.textContent = text || (media.value ? "Ready to send." : "Upload or record first.");
    };
    form.addEventListener("practika:upload-started", () => update("Uploading…"));
    form.addEventListener("practika:upload-cancelled", () => update());
    form.addEventListener("practika:uploaded", (e) => update(e.detail.media.state === "failed" ? "This file cannot be used; choose another." : "Ready to send."));
    update();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-uploader]").forEach((root) => new Uploader(root));
    document.querySelectorAll("[data-media-state][data-media-id]").forEach(pollMedia);
    tabs();
    assignToggle();
    replyForm();
  });

  window.PractikaLearning = { api, csrfToken, Uploader };
})();
