// The rubric editor (templates/learning/rubrics/editor.html): criteria with levels and points,
// built from the page's <template> rows and saved as one document through the rubrics API
// (POST /api/v1/rubrics/ for a new one, PUT /api/v1/rubrics/<id>/ for an edit). Rows keep the
// public_id they came with, so an edit keeps its criteria and levels. A rubric with scores is
// locked: its wording changes, its rows and points do not (the server refuses them too).
import { api } from "./lib/api.js";

const configElement = document.getElementById("rubric-editor-config");
const config = configElement ? JSON.parse(configElement.textContent) : null;
const form = document.querySelector("[data-rubric-editor]");
const criteriaList = form && form.querySelector("[data-criteria]");
const criterionTemplate = document.querySelector("[data-criterion-template]");
const levelTemplate = document.querySelector("[data-level-template]");

const number = (value) => String(Math.round(value * 100) / 100);

function addLevel(levels, level = {}) {
  const row = levelTemplate.content.firstElementChild.cloneNode(true);
  if (level.public_id) row.dataset.publicId = level.public_id;
  row.querySelector("[data-level-title]").value = level.title || "";
  row.querySelector("[data-level-points]").value = level.points !== undefined ? level.points : "";
  row.querySelector("[data-level-description]").value = level.description || "";
  row.querySelector("[data-remove-level]").addEventListener("click", () => { row.remove(); renumber(); });
  levels.append(row);
  return row;
}

function addCriterion(criterion = { levels: [] }) {
  const row = criterionTemplate.content.firstElementChild.cloneNode(true);
  if (criterion.public_id) row.dataset.publicId = criterion.public_id;
  row.querySelector("[data-criterion-title]").value = criterion.title || "";
  row.querySelector("[data-criterion-description]").value = criterion.description || "";
  const levels = row.querySelector("[data-levels]");
  const given = criterion.levels && criterion.levels.length ? criterion.levels : [{}, {}];
  for (const level of given) addLevel(levels, level);
  row.querySelector("[data-add-level]").addEventListener("click", () => {
    addLevel(levels).querySelector("[data-level-title]").focus();
    renumber();
  });
  row.querySelector("[data-remove-criterion]").addEventListener("click", () => { row.remove(); renumber(); });
  criteriaList.append(row);
  return row;
}

// Legends and labels say which criterion and level each row is; the total is the sum of
// each criterion's best level.
function renumber() {
  let maximum = 0;
  [...criteriaList.querySelectorAll("[data-criterion-row]")].forEach((row, index) => {
    row.querySelector("legend").textContent = `Criterion ${index + 1}`;
    const points = [...row.querySelectorAll("[data-level-points]")].map((input) => Number(input.value) || 0);
    maximum += points.length ? Math.max(...points) : 0;
  });
  form.querySelector("[data-rubric-editor-total]").textContent = `Out of ${number(maximum)}`;
}

function lock() {
  for (const selector of ["[data-add-level]", "[data-remove-level]", "[data-remove-criterion]"]) {
    for (const button of form.querySelectorAll(selector)) button.hidden = true;
  }
  for (const input of form.querySelectorAll("[data-level-points]")) input.readOnly = true;
}

function collect() {
  return {
    title: form.querySelector("[data-rubric-title]").value,
    description: form.querySelector("[data-rubric-description]").value,
    criteria: [...criteriaList.querySelectorAll("[data-criterion-row]")].map((row) => ({
      public_id: row.dataset.publicId || null,
      title: row.querySelector("[data-criterion-title]").value,
      description: row.querySelector("[data-criterion-description]").value,
      levels: [...row.querySelectorAll("[data-level-row]")].map((level) => ({
        public_id: level.dataset.publicId || null,
        title: level.querySelector("[data-level-title]").value,
        points: level.querySelector("[data-level-points]").value,
        description: level.querySelector("[data-level-description]").value,
      })),
    })),
  };
}

// The API's 400 for a field ({"fields": {...}}) names the first wrong field; its other 400s
// are a sentence.
function message(failure) {
  if (failure.data && failure.data.fields) {
    return `${failure.message} ${JSON.stringify(failure.data.fields).slice(0, 200)}`;
  }
  return failure.message;
}

async function save(event) {
  event.preventDefault();
  const error = form.querySelector("[data-rubric-editor-error]");
  error.textContent = "";
  const body = collect();
  const create = !config.update;
  if (create && config.exercise) body.exercise = config.exercise;
  try {
    await api(create ? config.create : config.update, {
      method: create ? "POST" : "PUT",
      body: JSON.stringify(body),
    });
    form.dataset.saved = "true";
    location.assign(config.after);
  } catch (failure) {
    error.textContent = message(failure);
  }
}

if (config && form) {
  form.querySelector("[data-rubric-title]").value = config.rubric.title || "";
  form.querySelector("[data-rubric-description]").value = config.rubric.description || "";
  const criteria = config.rubric.criteria.length ? config.rubric.criteria : [{ levels: [] }];
  for (const criterion of criteria) addCriterion(criterion);
  const add = form.querySelector("[data-add-criterion]");
  if (add) add.addEventListener("click", () => { addCriterion().querySelector("[data-criterion-title]").focus(); renumber(); });
  form.addEventListener("input", renumber);
  form.addEventListener("submit", save);
  if (config.locked) lock();
  renumber();
  form.dataset.ready = "true";
}
