// The feedback library on the compare page (teachers): saved comments inserted into the
// comment box, whose moment is the playhead's when it opened. Ctrl+K (⌘K) in the comment box,
// or "l" anywhere else on the page, opens the picker with its search box; arrows choose, Enter
// inserts at the caret, Escape goes back to the comment. Each saved comment inserted is sent
// with the comment (the form's data-saved-comments), and the server counts its use.
// Saved comments are people's text: only ever put on the page with textContent.
import { api } from "../lib/api.js";
import { element } from "../lib/dom.js";
import { openCommentForm } from "./comments.js";
import { $, config } from "./state.js";

const picker = $("[data-library-picker]");
const form = $("[data-comment-form]");
const body = $("[data-comment-body]");
const search = $("[data-library-search]");
const results = $("[data-library-results]");
const empty = $("[data-library-empty]");
const saveStatus = $("[data-library-save-status]");
let found = [];
let active = -1;
let asked = 0;
let timer = null;
let searching = Promise.resolve(); // the latest search, until its answer is shown

function find(q) {
  searching = ask(q);
  return searching;
}

async function ask(q) {
  const turn = ++asked;
  const url = `${config.api.library}?limit=20&q=${encodeURIComponent(q)}`;
  try {
    const page = await api(url);
    if (turn !== asked) return; // a later search has been sent
    found = page.results;
    active = found.length ? 0 : -1;
    render();
  } catch (error) {
    empty.hidden = false;
    empty.textContent = `The library could not be searched: ${error.message}`;
  }
}

function render() {
  results.replaceChildren();
  found.forEach((saved, index) => {
    const option = element("li", "library-option");
    option.id = `saved-${saved.public_id}`;
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", String(index === active));
    option.dataset.saved = saved.public_id;
    option.append(element("span", "library-text", saved.body));
    const meta = `${saved.shared ? "shared · " : ""}used ${saved.use_count}×`;
    option.append(element("span", "muted small", meta));
    // mousedown, not click: the search box keeps the focus until the insertion.
    option.addEventListener("mousedown", (event) => { event.preventDefault(); insert(saved); });
    results.append(option);
  });
  empty.hidden = found.length > 0;
  empty.textContent = search.value.trim() ? "No saved comment matches." : "Your library is empty: save a comment with the button below.";
  if (active >= 0) search.setAttribute("aria-activedescendant", `saved-${found[active].public_id}`);
  else search.removeAttribute("aria-activedescendant");
}

function open() {
  if (form.hidden) openCommentForm();
  picker.hidden = false;
  search.value = "";
  found = []; // what an earlier search found is not shown for this one
  active = -1;
  render();
  search.focus();
  find("");
}

function close({ refocus = true } = {}) {
  picker.hidden = true;
  if (refocus) body.focus();
}

function insert(saved) {
  const start = body.selectionStart ?? body.value.length;
  const end = body.selectionEnd ?? start;
  const before = body.value.slice(0, start);
  const gap = before && !/\s$/.test(before) ? " " : "";
  body.setRangeText(gap + saved.body, start, end, "end");
  const used = new Set((form.dataset.savedComments || "").split(",").filter(Boolean));
  used.add(saved.public_id);
  form.dataset.savedComments = [...used].join(",");
  close();
}

export function initLibrary() {
  if (!picker || !config.api.library) return;
  body.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") { event.preventDefault(); open(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "l" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    open();
  });
  $("[data-library-open]").addEventListener("click", open);
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; find(search.value); }, 150);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!found.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + found.length) % found.length;
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      // Typed faster than the search: insert from the answer to what the box says now.
      if (timer) { clearTimeout(timer); timer = null; find(search.value); }
      searching.then(() => { if (active >= 0 && !picker.hidden) insert(found[active]); });
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  $("[data-library-close]").addEventListener("click", () => close());
  $("[data-comment-cancel]").addEventListener("click", () => { close({ refocus: false }); delete form.dataset.savedComments; });
  // Keep what is in the comment box for next time.
  $("[data-library-save]").addEventListener("click", async () => {
    saveStatus.textContent = "";
    try {
      await api(config.api.library, { method: "POST", body: JSON.stringify({ body: body.value, shared: false }) });
      saveStatus.textContent = "Saved in your library.";
    } catch (error) { saveStatus.textContent = error.message; }
  });
}
