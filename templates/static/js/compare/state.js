// What the compare page's modules share: the page's config (rendered by learning.views.compare
// as JSON), its root element, and the state that more than one module changes.
import { demoAtMs as mapDemoAtMs, replyAtMs as mapReplyAtMs } from "../lib/timemap.js";

const configElement = document.getElementById("compare-config");
export const config = configElement ? JSON.parse(configElement.textContent) : null;
export const root = document.querySelector("[data-compare]");
// Lookups inside the compare page (none on other pages, where the entry module stops at once).
export const $ = (selector) => (root ? root.querySelector(selector) : null);
export const $$ = (selector) => (root ? [...root.querySelectorAll(selector)] : []);

export const state = {
  // seconds: right position = t - offset (the reply's sync_offset_ms / 1000)
  offset: config && config.can_sync ? config.offset_ms / 1000 : 0,
  timeMap: null, // {demo_ms: [...], reply_ms: [...]} once the alignment is ready
  autoSync: false,
  autoTouched: false, // someone chose manual or auto sync: loading the alignment keeps it
  alignment: null, // the alignment API's answer
  threads: [], // the reply's comment threads, in timeline order
};

export const hasMap = () => Boolean(state.timeMap && state.timeMap.demo_ms.length);
export const mapped = () => state.autoSync && hasMap();
export const replyAtMs = (ms) => mapReplyAtMs(state.timeMap, ms);
export const demoAtMs = (ms) => mapDemoAtMs(state.timeMap, ms);
export const replyAt = (seconds) => replyAtMs(seconds * 1000) / 1000;
export const demoAt = (seconds) => demoAtMs(seconds * 1000) / 1000;
