// Voice and video notes on comments (learning.media_comments; the partial is
// templates/learning/compare/_media_comment.html).
//
// Recording (teachers): inside the comment form, "Record video" or "Record voice" turns on the
// camera and microphone (MediaRecorder, as js/recorder.js does for students' replies) and
// records until Stop, or until the longest note the server accepts (data-max-seconds). The
// take is uploaded at once through the page's uploader (js/uploader.js, purpose "comment"),
// which writes its media id into the form's hidden input; comments.js posts it with the
// comment (noteForComment) and clears the recorder afterwards (resetNote).
//
// Playing (everyone who sees the comment): commentMedia(comment) gives the elements a comment's
// recording shows as: an <audio> or <video> with the signed URL the comment API hands out, or
// "Processing the recording…" while the pipeline works; then the media API is asked every two
// seconds, and once the recording is ready (or failed) the comments are loaded again (the
// "comments" hook), which is how the compare page's own sides learn theirs is ready.
import { api } from "../lib/api.js";
import { clockWhole } from "../lib/clock.js";
import { element } from "../lib/dom.js";
import { emit } from "./events.js";
import { $ } from "./state.js";
import { pause } from "./transport.js";

const POLL_MS = 2000;
const TYPES = {
  video: ["video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm", "video/mp4;codecs=avc1,mp4a", "video/mp4"],
  audio: ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"],
};

function pickType(kind) {
  if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) return "";
  return TYPES[kind].find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

// --- Playing ------------------------------------------------------------------------------

const polling = new Map(); // media id -> interval

function watch(media) {
  if (polling.has(media.public_id)) return;
  const timer = setInterval(async () => {
    let now;
    try { now = await api(`/api/v1/media/${media.public_id}/`); } catch (error) { return; }
    if (now.state !== "ready" && now.state !== "failed") return;
    clearInterval(timer);
    polling.delete(media.public_id);
    emit("comments");
  }, POLL_MS);
  polling.set(media.public_id, timer);
}

// The elements to put in a comment's box for its recording (none without one).
export function commentMedia(comment) {
  const media = comment.media;
  if (!media) return [];
  if (media.state === "failed") {
    return [element("p", "note-state error small", `The recording could not be processed: ${media.error_message || "it could not be read."}`)];
  }
  if (media.state !== "ready" || !media.src) {
    const waiting = element("p", "note-state small muted", "Processing the recording…");
    waiting.dataset.noteProcessing = media.public_id;
    watch(media);
    return [waiting];
  }
  const player = element(media.kind === "video" ? "video" : "audio", `note-player note-${media.kind}`);
  player.controls = true;
  player.preload = "metadata";
  player.src = media.src;
  if (media.kind === "video") {
    player.playsInline = true;
    if (media.poster) player.poster = media.poster;
  }
  player.dataset.notePlayer = media.public_id;
  player.setAttribute("aria-label", `${media.kind === "video" ? "Video" : "Voice"} note by ${comment.author.display_name}`);
  // A note is listened to on its own: the two recordings stop while it plays.
  player.addEventListener("play", () => pause());
  return [player];
}

// --- Recording (teachers) -------------------------------------------------------------------

const box = $("[data-note-recorder]");
let stream = null;
let recorder = null;
let chunks = [];
let started = 0;
let tick = null;
let uploading = false;

const find = (selector) => box.querySelector(selector);

function say(text) { find("[data-note-status]").textContent = text; }

function stopStream() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  const live = find("[data-note-live]");
  live.srcObject = null;
  live.hidden = true;
}

function showButtons({ recording = false, taken = false } = {}) {
  box.querySelectorAll("[data-note-start]").forEach((button) => { button.hidden = recording || taken; });
  find("[data-note-stop]").hidden = !recording;
  find("[data-note-discard]").hidden = !taken;
}

async function start(kind) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    say("This browser cannot record. Choose a recording made elsewhere instead.");
    return;
  }
  pause();
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: kind === "video" ? { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" } : false,
      audio: true, // speech: the browser's voice filters help here
    });
  } catch (error) {
    say(error.name === "NotAllowedError"
      ? "Camera or microphone access was refused. Allow it in the browser's address bar and try again."
      : "No camera or microphone was found.");
    return;
  }
  const live = find("[data-note-live]");
  if (kind === "video") {
    live.srcObject = stream;
    live.hidden = false;
    live.play().catch(() => {});
  }
  chunks = [];
  const type = pickType(kind);
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  recorder.onstop = () => finished(kind);
  recorder.start(1000);
  started = performance.now();
  const limit = Number(box.dataset.maxSeconds || 120);
  const timer = find("[data-note-timer]");
  timer.textContent = "0:00";
  tick = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    timer.textContent = clockWhole(seconds);
    if (seconds >= limit) stop();
  }, 250);
  showButtons({ recording: true });
  box.dataset.noteState = "recording";
  say(`Recording… (up to ${clockWhole(limit)})`);
}

function stop() {
  clearInterval(tick);
  if (recorder && recorder.state !== "inactive") recorder.stop();
}

function finished(kind) {
  stopStream();
  const blob = new Blob(chunks, { type: recorder.mimeType || (kind === "video" ? "video/webm" : "audio/webm") });
  const take = find("[data-note-take]");
  if (take.src) URL.revokeObjectURL(take.src);
  take.src = URL.createObjectURL(blob);
  take.hidden = false;
  showButtons({ taken: true });
  const extension = blob.type.includes("mp4") ? (kind === "video" ? "mp4" : "m4a") : "webm";
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  const file = new File([blob], `${kind}-note-${stamp}.${extension}`, { type: blob.type });
  uploading = true;
  box.dataset.noteState = "uploading";
  say(`Your note: ${clockWhole((performance.now() - started) / 1000)}. Sending it…`);
  box.querySelector("[data-uploader]").uploader.upload(file);
}

// What comments.js adds to the comment it posts: {media: id}, {} without a recording; throws
// while the recording is still on its way.
export function noteForComment() {
  if (!box) return {};
  if (recorder && recorder.state === "recording") throw new Error("Stop the recording first.");
  if (uploading) throw new Error("The recording is still uploading: post once it is sent.");
  const id = find("[data-note-media]").value;
  return id ? { media: id } : {};
}

export function resetNote() {
  if (!box) return;
  if (recorder && recorder.state !== "inactive") { recorder.onstop = null; recorder.stop(); }
  clearInterval(tick);
  stopStream();
  const take = find("[data-note-take]");
  if (take.src) URL.revokeObjectURL(take.src);
  take.removeAttribute("src");
  take.hidden = true;
  find("[data-note-media]").value = "";
  uploading = false;
  delete box.dataset.noteState;
  showButtons();
  say(`A note of up to ${box.dataset.maxSeconds} seconds, with or without text.`);
}

export function initMediaComments() {
  if (!box) return;
  box.querySelectorAll("[data-note-start]").forEach((button) => {
    button.addEventListener("click", () => start(button.dataset.noteStart));
  });
  find("[data-note-stop]").addEventListener("click", stop);
  find("[data-note-discard]").addEventListener("click", () => {
    const cancel = box.querySelector("[data-upload-cancel]");
    if (uploading && cancel) cancel.click();
    resetNote();
  });
  box.addEventListener("practika:upload-started", () => { uploading = true; box.dataset.noteState = "uploading"; });
  box.addEventListener("practika:upload-cancelled", () => { uploading = false; delete box.dataset.noteState; });
  box.addEventListener("practika:uploaded", (event) => {
    uploading = false;
    const media = event.detail.media;
    if (media && media.state === "failed") {
      find("[data-note-media]").value = "";
      delete box.dataset.noteState;
      say(media.error_message || "This recording cannot be used; record another.");
      return;
    }
    showButtons({ taken: true });
    box.dataset.noteState = "uploaded";
    say("The note is sent. Post the comment (text is optional).");
  });
  window.addEventListener("pagehide", () => { if (recorder && recorder.state !== "inactive") recorder.stop(); stopStream(); });
}
