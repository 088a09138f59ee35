/* The uploader: a file goes straight to storage through the upload API (/api/v1/uploads/),
 * driven by Uppy (templates/static/vendor/uppy.js, built from frontend/ by `make`).
 *
 * - @uppy/aws-s3 sends the parts, PARALLEL_PARTS at a time, to the URLs our API hands out
 *   (presigned S3 URLs, or the local endpoint in the embedded default: the same contract), and
 *   retries a failed part after each of RETRY_DELAYS_MS; offline, it waits for the connection.
 *   Its create/sign/list/complete/abort hooks are our API's start, the ticket's part URLs,
 *   `GET /api/v1/uploads/<token>/`, complete and `DELETE`.
 * - @uppy/golden-retriever keeps the file (IndexedDB) and the upload's state (localStorage), so
 *   that after a reload or a crash the upload resumes: the server lists the parts it already
 *   has, and only the others are sent.
 * - Pause stops the parts in flight (and Resume asks the server what it has); Cancel aborts
 *   the upload on the server too.
 *
 * The upload is addressed by its status URL (`/api/v1/uploads/<token>/`, Uppy's "uploadId");
 * the media id is Uppy's "key". User-provided text is only ever set with textContent.
 */
import { AwsS3, GoldenRetriever, Uppy } from "../vendor/uppy.js";
import { api } from "./lib/api.js";
import { formatBytes } from "./lib/format.js";
import { partCount, partSizeFor } from "./lib/parts.js";

export const PARALLEL_PARTS = 4;
// About five minutes of retries for a part before the upload stops with an error (a Retry
// button then resumes it from the parts the server has).
export const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 30000, 60000, 60000, 60000];

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
    this.pauseButton = root.querySelector("[data-upload-pause]");
    this.cancelButton = root.querySelector("[data-upload-cancel]");
    this.max = Number(root.dataset.maxBytes || 0);
    this.tickets = new Map(); // uploadId (status URL) -> the API's ticket, with its part URLs
    this.media = new Map(); // Uppy file id -> the media file `complete` answered
    this.discarded = new Set(); // uploadIds this page aborted itself
    this.stored = 0; // parts the server had when the upload resumed, for the status line

    // One store per form on this page: a reload of the same page finds its upload again.
    const id = `practika-${root.dataset.purpose}-${location.pathname}`.replace(/[^\w-]+/g, "-");
    this.uppy = new Uppy({ id, autoProceed: false, allowMultipleUploadBatches: true });
    this.uppy.use(AwsS3, {
      shouldUseMultipart: true, // the API has one flow: multipart, even for one part
      limit: PARALLEL_PARTS,
      retryDelays: RETRY_DELAYS_MS,
      getChunkSize: (file) => partSizeFor(file.size),
      createMultipartUpload: (file) => this.create(file),
      signPart: (file, { uploadId, partNumber }) => this.sign(uploadId, partNumber),
      listParts: (file, { uploadId }) => this.list(uploadId),
      completeMultipartUpload: (file, { uploadId, parts }) => this.complete(file, uploadId, parts),
      abortMultipartUpload: (file, { uploadId }) => this.abort(uploadId),
    });
    this.uppy.use(GoldenRetriever, {
      // Keep the file itself (not only its name) for any file the site accepts.
      indexedDB: { maxFileSize: this.max || Infinity, maxTotalSize: this.max || Infinity },
    });
    this.listen();

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
    this.pauseButton.addEventListener("click", () => this.pauseOrResume());
    this.cancelButton.addEventListener("click", () => this.cancel());
    root.uploader = this;
    // A file chosen while the page's scripts were still loading (a slow connection): no
    // change event is coming for it.
    if (this.input.files[0]) this.upload(this.input.files[0]);
  }

  say(text) { this.status.textContent = text; }

  emit(name, detail) { this.root.dispatchEvent(new CustomEvent(name, { bubbles: true, detail })); }

  progress(done, total) {
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 100;
    this.bar.value = pct;
    this.pct.textContent = `${pct}%`;
  }

  buttons({ pause = false, resume = false, retry = false, cancel = false } = {}) {
    this.pauseButton.hidden = !(pause || resume || retry);
    this.pauseButton.textContent = retry ? "Retry" : resume ? "Resume" : "Pause";
    this.pauseButton.dataset.action = retry ? "retry" : resume ? "resume" : "pause";
    this.cancelButton.hidden = !cancel;
  }

  show(name) {
    this.box.hidden = false;
    this.root.classList.remove("done");
    this.name.textContent = name || "recording";
  }

  current() { return this.uppy.getFiles()[0] || null; }

  /* --- Uppy's hooks: our upload API ------------------------------------------------------ */

  async create(file) {
    const ticket = await api("/api/v1/uploads/", {
      method: "POST",
      body: JSON.stringify({
        purpose: this.root.dataset.purpose,
        filename: file.name || "recording.webm",
        size: file.size,
        content_type: file.type || "",
        // A reply's exercise: the server refuses the upload while a course keeps it locked.
        ...(this.root.dataset.exercise ? { exercise: this.root.dataset.exercise } : {}),
      }),
    });
    if (ticket.part_size !== partSizeFor(file.size)) {
      // Uppy has cut the file already; parts of another size would not join on the server.
      await this.abort(ticket.abort_url);
      throw new Error("The server cuts this file differently from this page. Reload the page and try again.");
    }
    this.tickets.set(ticket.abort_url, ticket);
    this.say(`Uploading… 0 of ${formatBytes(file.size)} sent`);
    return { uploadId: ticket.abort_url, key: ticket.media.id };
  }

  async ticket(uploadId, { fresh = false } = {}) {
    if (!fresh && this.tickets.has(uploadId)) return this.tickets.get(uploadId);
    const ticket = await api(uploadId);
    this.tickets.set(uploadId, ticket);
    return ticket;
  }

  async sign(uploadId, partNumber) {
    const ticket = await this.ticket(uploadId);
    const part = ticket.parts.find((p) => p.number === partNumber);
    if (!part) throw new Error(`Part ${partNumber} is not part of this upload.`);
    return { method: part.method, url: part.url };
  }

  // After a reload, a pause or a lost connection: the parts the server has are not sent again.
  async list(uploadId) {
    const ticket = await this.ticket(uploadId, { fresh: true });
    this.stored = ticket.uploaded_parts.length;
    const file = this.current();
    if (file) {
      const done = ticket.uploaded_parts.reduce((sum, p) => sum + p.size, 0);
      this.progress(done, file.size);
      const total = partCount(file.size, ticket.part_size);
      this.say(`Resuming: ${this.stored} of ${total} parts were already stored.`);
    }
    return ticket.uploaded_parts.map((p) => ({ PartNumber: p.number, ETag: p.etag, Size: p.size }));
  }

  async complete(file, uploadId, parts) {
    const ticket = await this.ticket(uploadId);
    this.say("Finishing…");
    const media = await api(ticket.complete_url, {
      method: "POST",
      body: JSON.stringify({ parts: parts.map((p) => ({ number: p.PartNumber, etag: p.ETag })) }),
    });
    this.media.set(file.id, media);
    return {};
  }

  async abort(uploadId) {
    if (!uploadId || this.discarded.has(uploadId)) return;
    this.discarded.add(uploadId);
    this.tickets.delete(uploadId);
    try { await api(uploadId, { method: "DELETE" }); } catch (e) { /* gone already */ }
  }

  /* --- What the page shows --------------------------------------------------------------- */

  listen() {
    const uppy = this.uppy;
    uppy.on("upload-progress", (file, { bytesUploaded, bytesTotal }) => {
      if (!bytesTotal) return;
      this.progress(bytesUploaded, bytesTotal);
      if (!file.isPaused) this.say(`Uploading… ${formatBytes(bytesUploaded)} of ${formatBytes(bytesTotal)} sent`);
    });
    uppy.on("upload-pause", (file, isPaused) => {
      this.buttons({ pause: !isPaused, resume: isPaused, cancel: true });
      if (isPaused) this.say("Paused. Resume sends the parts the server does not have yet.");
    });
    uppy.on("upload-error", (file, error) => {
      this.buttons({ retry: Boolean(file && file.s3Multipart && file.s3Multipart.uploadId), cancel: true });
      this.say(error && error.message ? `The upload stopped: ${error.message}` : "The upload stopped. Try again.");
    });
    uppy.on("upload-success", (file) => {
      const media = this.media.get(file.id);
      this.media.delete(file.id);
      this.buttons();
      this.root.classList.add("done");
      this.progress(1, 1);
      this.target.value = media ? media.id : "";
      this.say(media && media.state === "failed" ? (media.error_message || "The file was refused.") : "Uploaded. Processing starts now.");
      this.emit("practika:uploaded", { media });
    });
    // Golden Retriever found an unfinished upload of this form (a reload, a crash).
    uppy.on("restored", () => {
      const file = this.current();
      if (!file || file.progress.uploadComplete) return;
      this.show(file.name);
      this.target.value = "";
      this.emit("practika:upload-started", {});
      if (file.isGhost) {
        // The browser kept the upload's state but not the file: choosing it again resumes.
        this.buttons({ cancel: true });
        this.say(`Choose “${file.name}” again to finish its upload; the parts already sent are kept.`);
        return;
      }
      this.buttons({ pause: true, cancel: true });
      this.say("Resuming the upload…");
      uppy.emit("restore-confirmed"); // Golden Retriever restarts the upload (listParts first)
    });
    window.addEventListener("offline", () => {
      if (this.current() && !this.root.classList.contains("done")) this.say("Offline: the upload goes on when the connection is back.");
    });
  }

  async upload(file) {
    this.show(file.name);
    this.target.value = "";
    this.emit("practika:upload-started", {});
    if (this.max && file.size > this.max) {
      this.buttons();
      this.say(`This file is ${formatBytes(file.size)}; the limit is ${formatBytes(this.max)}.`);
      return;
    }
    if (file.size === 0) {
      this.buttons();
      this.say("This file is empty (0 bytes): nothing was recorded. Choose another file or record a new take.");
      return;
    }
    const ghost = this.uppy.getFiles().find((f) => f.isGhost);
    for (const old of this.uppy.getFiles()) if (old !== ghost) this.discard(old);
    this.progress(0, file.size);
    this.buttons({ pause: true, cancel: true });
    this.say("Starting upload…");
    let id;
    try {
      id = this.uppy.addFile({ name: file.name || "recording.webm", type: file.type, data: file, source: "Local" });
    } catch (error) {
      this.buttons();
      this.say(error.message || "This file cannot be uploaded.");
      return;
    }
    if (ghost && id === ghost.id) {
      this.uppy.emit("restore-confirmed"); // the same file again: resume where it stopped
      return;
    }
    if (ghost) this.discard(ghost);
    this.uppy.upload().catch(() => { /* shown by upload-error */ });
  }

  // Forget a file and abort its upload on the server (Uppy only aborts one it is sending).
  discard(file) {
    const uploadId = file.s3Multipart && file.s3Multipart.uploadId;
    this.uppy.removeFile(file.id);
    if (uploadId) this.abort(uploadId);
  }

  pauseOrResume() {
    const file = this.current();
    if (!file) return;
    if (this.pauseButton.dataset.action === "retry") {
      this.buttons({ pause: true, cancel: true });
      this.say("Resuming…");
      this.uppy.retryUpload(file.id).catch(() => { /* shown by upload-error */ });
    } else {
      this.uppy.pauseResume(file.id);
    }
  }

  cancel() {
    const file = this.current();
    if (file) this.discard(file);
    this.buttons();
    this.input.value = "";
    this.progress(0, 1);
    this.say("Upload cancelled.");
    this.emit("practika:upload-cancelled", {});
  }
}

document.querySelectorAll("[data-uploader]").forEach((root) => new Uploader(root));
