/* Core-loop pages: live media states, tabs, the assign-to toggle and the reply form's state.
 *
 * The uploader is js/uploader.js (Uppy), loaded only by the pages that have one
 * (learning/_uploader.html); the reply form hears it through its practika:upload-* events.
 * User-provided text is only ever set with textContent.
 */
import { api } from "./lib/api.js";
import { csrfToken } from "./lib/csrf.js";

(function () {
  "use strict";

  /* --- Live media states ---------------------------------------------------------------- */

  const LABELS = { awaiting_upload: "Awaiting upload", uploaded: "Uploaded", processing: "Processing", ready: "Ready", failed: "Failed" };

  // A recording's state is asked for 2 s after the page opens, then less and less often (each
  // wait half as long again, at most 10 s): most are ready within seconds, and a long queue of
  // work does not turn every open page into a request every 2 s.
  const POLL_FIRST_MS = 2000, POLL_GROWTH = 1.5, POLL_MOST_MS = 10000;

  function pollMedia(badge) {
    const id = badge.dataset.mediaId;
    if (!id) return;
    const error = badge.parentElement.querySelector("[data-media-error]");
    let last = [...badge.classList].find((c) => c.startsWith("state-"))?.slice(6);
    if (last === "ready" || last === "failed") return;
    let wait = POLL_FIRST_MS;
    const again = () => {
      setTimeout(check, wait);
      wait = Math.min(wait * POLL_GROWTH, POLL_MOST_MS);
    };
    const check = async () => {
      let media;
      try { media = await api(`/api/v1/media/${id}/`); } catch (e) { return again(); }
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
        if (media.state === "ready" && badge.hasAttribute("data-reload-on-ready")) location.reload();
        return;
      }
      again();
    };
    again();
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
    document.querySelectorAll("[data-media-state][data-media-id]").forEach(pollMedia);
    tabs();
    assignToggle();
    replyForm();
  });

  window.PractikaLearning = { api, csrfToken };
})();
