// The compare page's rubric panel (templates/learning/compare/_rubric.html): the teacher picks
// a level per criterion, with an optional note, and saves through the scores API
// (PUT /api/v1/replies/<id>/scores/); the total follows the picks as they are made. Without
// scripts the same form posts to the page's own view. Imports only lib/, so it stands apart
// from the player's modules.
import { api } from "../lib/api.js";

const panel = document.querySelector("[data-rubric-panel]");
const form = panel && panel.querySelector("[data-rubric-form]");

const number = (value) => String(Math.round(value * 100) / 100);

function pickedTotal() {
  let total = 0;
  for (const input of form.querySelectorAll("input[type=radio]:checked")) total += Number(input.dataset.points);
  return total;
}

function showTotal(given, maximum, saved) {
  const box = panel.querySelector("[data-rubric-total]");
  const strong = document.createElement("strong");
  strong.textContent = number(given);
  box.replaceChildren(strong, ` of ${number(maximum)}${saved ? "" : " (not saved)"}`);
}

async function save(event) {
  event.preventDefault();
  const status = form.querySelector("[data-rubric-saved]");
  const error = form.querySelector("[data-rubric-error]");
  error.textContent = "";
  status.textContent = "Saving…";
  const scores = [...form.querySelectorAll("[data-criterion]")].map((fieldset) => {
    const picked = fieldset.querySelector("input[type=radio]:checked");
    return {
      criterion: fieldset.dataset.criterion,
      level: picked ? picked.value : null,
      note: fieldset.querySelector("[data-rubric-note]").value,
    };
  }).filter((score) => score.level);
  try {
    const answer = await api(panel.dataset.api, { method: "PUT", body: JSON.stringify({ scores }) });
    showTotal(answer.score_given, answer.score_maximum, true);
    status.textContent = "Saved. The student sees these scores.";
    panel.dataset.saved = "true";
    const badge = document.querySelector("[data-reply-status]");
    if (badge) {
      badge.textContent = "Reviewed";
      badge.className = "badge reply-reviewed";
    }
  } catch (failure) {
    status.textContent = "";
    error.textContent = failure.message;
  }
}

if (form) {
  form.addEventListener("change", (event) => {
    if (event.target.type === "radio") {
      showTotal(pickedTotal(), Number(panel.dataset.maximum), false);
      delete panel.dataset.saved;
    }
  });
  form.addEventListener("submit", save);
  panel.dataset.ready = "true";
}
