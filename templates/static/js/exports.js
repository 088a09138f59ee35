// The export pages: follow each export being written (state and percentage, which the task
// updates) through the API, and reload the page when one is done so that its link shows.

const POLL_MS = 2000;
const LABELS = { queued: "Queued", running: "Being written" };

async function follow(row) {
  const url = row.dataset.exportStatus;
  const state = row.querySelector("[data-export-state]");
  const bar = row.querySelector("progress");
  const percent = row.querySelector("[data-export-percent]");
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    let body;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) continue;
      body = await response.json();
    } catch {
      continue; // offline for a moment: try again
    }
    if (bar) bar.value = body.progress;
    if (percent) percent.textContent = `${body.progress}%`;
    if (state && LABELS[body.state]) state.textContent = LABELS[body.state];
    if (body.state === "ready" || body.state === "failed") {
      window.location.reload();
      return;
    }
  }
}

document.querySelectorAll("[data-export-status]").forEach((row) => follow(row));
