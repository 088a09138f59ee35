/* Record a reply in the browser (MediaRecorder, camera + microphone), optionally while the
 * demonstration plays, preview it, record again, and send it through the same uploader as a
 * chosen file (learning.js). The camera is on only between "Turn on camera" and leaving the
 * tab or the page.
 */
import { clockWhole as clock } from "./lib/clock.js";

(function () {
  "use strict";

  const TYPES = [
    "video/webm;codecs=vp9,opus",
    "video/webm;codecs=vp8,opus",
    "video/webm",
    "video/mp4;codecs=avc1,mp4a",
    "video/mp4",
  ];

  function pickType() {
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) return "";
    return TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
  }

  function setup(root) {
    const $ = (selector) => root.querySelector(selector);
    const live = $("[data-rec-live]");
    const take = $("[data-rec-take]");
    const idle = $("[data-rec-idle]");
    const timer = $("[data-rec-timer]");
    const status = $("[data-rec-status]");
    const startButton = $("[data-rec-start]");
    const recordButton = $("[data-rec-record]");
    const stopButton = $("[data-rec-stop]");
    const againButton = $("[data-rec-again]");
    const useButton = $("[data-rec-use]");
    const withDemo = $("[data-rec-with-demo]");
    const headphones = $("[data-rec-headphones]");
    const demo = document.getElementById(root.dataset.demoPlayer);
    const uploaderRoot = root.closest("form").querySelector("[data-uploader]");

    let stream = null;
    let recorder = null;
    let chunks = [];
    let blob = null;
    let started = 0;
    let tick = null;

    if (!demo) withDemo.closest("label").hidden = true;
    withDemo.addEventListener("change", () => { headphones.hidden = !withDemo.checked; });

    const say = (text) => { status.textContent = text; };
    const show = (element, visible) => { element.hidden = !visible; };

    async function turnOn() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
        say("This browser cannot record. Record with your phone's camera app and upload the file instead.");
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" },
          // Music, not speech: the voice-call filters would flatten and gate the instrument.
          audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
        });
      } catch (error) {
        say(error.name === "NotAllowedError"
          ? "Camera or microphone access was refused. Allow it in the browser's address bar and try again."
          : "No camera or microphone was found.");
        return;
      }
      live.srcObject = stream;
      show(idle, false);
      show(live, true);
      recordButton.disabled = false;
      say("Camera is on. Press Record when you are ready.");
    }

    function record() {
      chunks = [];
      blob = null;
      const type = pickType();
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = finished;
      recorder.start(1000);
      started = performance.now();
      show(timer, true);
      timer.textContent = "0:00";
      tick = setInterval(() => { timer.textContent = clock((performance.now() - started) / 1000); }, 250);
      show(take, false);
      show(live, true);
      show(recordButton, false);
      show(againButton, false);
      show(useButton, false);
      show(stopButton, true);
      say("Recording…");
      if (withDemo.checked && demo) {
        demo.currentTime = 0;
        demo.play().catch(() => {});
      }
    }

    function stop() {
      if (recorder && recorder.state !== "inactive") recorder.stop();
      if (demo && withDemo.checked) demo.pause();
      clearInterval(tick);
      show(timer, false);
      show(stopButton, false);
    }

    function finished() {
      blob = new Blob(chunks, { type: recorder.mimeType || "video/webm" });
      if (take.src) URL.revokeObjectURL(take.src);
      take.src = URL.createObjectURL(blob);
      show(live, false);
      show(take, true);
      show(againButton, true);
      show(useButton, true);
      say(`Your take: ${clock((performance.now() - started) / 1000)}. Watch it, then use it or record again.`);
    }

    function useTake() {
      if (!blob) return;
      const extension = blob.type.includes("mp4") ? "mp4" : "webm";
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      const file = new File([blob], `recording-${stamp}.${extension}`, { type: blob.type });
      show(useButton, false);
      say("Sending your take…");
      uploaderRoot.uploader.upload(file);
    }

    function turnOff() {
      if (recorder && recorder.state !== "inactive") recorder.stop();
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      live.srcObject = null;
      recordButton.disabled = true;
      show(recordButton, true);
      show(idle, !blob);
    }

    startButton.addEventListener("click", turnOn);
    recordButton.addEventListener("click", record);
    stopButton.addEventListener("click", stop);
    againButton.addEventListener("click", () => {
      if (!stream) { turnOn().then(() => { if (stream) record(); }); return; }
      record();
    });
    useButton.addEventListener("click", useTake);
    document.addEventListener("practika:tab", (event) => { if (event.detail.tab !== "tab-record") turnOff(); });
    window.addEventListener("pagehide", turnOff);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-recorder]").forEach(setup);
  });
})();
