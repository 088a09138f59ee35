// The reply's sync offset (manual sync): the nudge buttons and dragging the reply's lane set
// it; a teacher's or the student's change is saved (debounced) through the sync-offset API.
import { api } from "../lib/api.js";
import { setAutoSync } from "./alignment.js";
import { schedule } from "./events.js";
import { $, config, root, state } from "./state.js";
import { now, playing, seek } from "./transport.js";

let saveTimer = null;
const offsetOutput = $("[data-offset]");
const offsetSaved = $("[data-offset-saved]");

export function setOffset(seconds, { save = true } = {}) {
  // Touching the manual offset means manual sync: auto-sync steps aside.
  if (state.autoSync) { state.autoTouched = true; setAutoSync(false); }
  const t = now();
  state.offset = Math.max(-600, Math.min(600, Math.round(seconds * 1000) / 1000));
  if (offsetOutput) offsetOutput.textContent = `${Math.round(state.offset * 1000)} ms`;
  if (!playing) seek(t);
  schedule("layout");
  if (!save || !config.can_sync) return;
  clearTimeout(saveTimer);
  if (offsetSaved) offsetSaved.textContent = "";
  saveTimer = setTimeout(async () => {
    try {
      const reply = await api(config.api.sync, {
        method: "POST",
        body: JSON.stringify({ offset_ms: Math.round(state.offset * 1000) }),
      });
      if (offsetSaved) offsetSaved.textContent = "Saved";
      root.dataset.savedOffsetMs = String(reply.sync_offset_ms);
    } catch (error) {
      if (offsetSaved) offsetSaved.textContent = error.message;
    }
  }, 500);
}
