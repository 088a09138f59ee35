// The pages' ES modules import each other without a cycle, and every import names a file that
// exists. Production's static storage (config.static_storage) rewrites each `import … from
// "./x.js";` to x's hashed name, and a hash cannot depend on itself: a cycle fails collectstatic
// ("Max post-process passes exceeded").
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SCRIPTS = fileURLToPath(new URL("../../templates/static/js/", import.meta.url));
// The browser libraries built from frontend/ by `make` (Uppy's bundle): generated, imported by
// the pages' modules, importing nothing themselves.
const VENDOR = fileURLToPath(new URL("../../templates/static/vendor/", import.meta.url));

// Static imports and re-exports (`import { a } from "./x.js";`, `import * as x from …`,
// `import "./x.js";`, `export { a } from …`) and dynamic `import("./x.js")`, in code (comments
// are dropped first). Each match keeps what follows, to check the `;` the storage's patterns
// need to rewrite it.
const IMPORT = /^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["'](\s*;)?/gm;
const BARE_IMPORT = /^\s*import\s*["']([^"']+)["'](\s*;)?/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function withoutComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

function modules(dir = SCRIPTS) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

// {file: [{specifier, target, terminated}]} for every module under templates/static/js.
function importGraph() {
  const graph = new Map();
  for (const file of modules()) {
    const code = withoutComments(readFileSync(file, "utf8"));
    const found = [];
    for (const pattern of [IMPORT, BARE_IMPORT]) {
      for (const [, specifier, semicolon] of code.matchAll(pattern)) found.push({ specifier, terminated: Boolean(semicolon) });
    }
    for (const [, specifier] of code.matchAll(DYNAMIC_IMPORT)) found.push({ specifier, terminated: true });
    graph.set(file, found.map((edge) => ({ ...edge, target: resolve(dirname(file), edge.specifier) })));
  }
  return graph;
}

// The first cycle found, as a list of nodes from a node back to itself, or null.
function findCycle(graph) {
  const state = new Map(); // node -> "open" (on the current path) | "done"
  const path = [];
  function visit(node) {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) || []) {
      if (state.get(next) === "open") return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    path.pop();
    state.set(node, "done");
    return null;
  }
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return null;
}

const name = (file) => relative(SCRIPTS, file);

test("the cycle finder finds a cycle, and none where there is none", () => {
  const acyclic = new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]);
  assert.equal(findCycle(acyclic), null);
  const cyclic = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["d", "b"]], ["d", []]]);
  assert.deepEqual(findCycle(cyclic), ["b", "c", "b"]);
  assert.deepEqual(findCycle(new Map([["a", ["a"]]])), ["a", "a"]);
});

test("the modules are found, with their imports", () => {
  const graph = importGraph();
  const compare = graph.get(join(SCRIPTS, "compare.js"));
  assert.ok(graph.size >= 20, `only ${graph.size} modules`);
  assert.ok(compare.length >= 7, "compare.js imports its modules");
  assert.ok(graph.get(join(SCRIPTS, "compare", "controls.js")).some((edge) => edge.specifier === "./transport.js"), "a multi-line import");
});

test("every import is relative, ends with a semicolon and names a file that exists", () => {
  for (const [file, edges] of importGraph()) {
    for (const { specifier, target, terminated } of edges) {
      const where = `${name(file)} imports "${specifier}"`;
      // No bundler and no import map: the browser resolves the specifier against the module's URL.
      assert.match(specifier, /^\.\.?\//, `${where}: not a relative path`);
      assert.ok(specifier.endsWith(".js"), `${where}: the browser needs the file's full name`);
      assert.ok(terminated, `${where}: without a ";" the static storage leaves it unhashed`);
      assert.ok(existsSync(target), `${where}: no such file`);
      const inside = (dir) => !relative(dir, target).startsWith("..");
      assert.ok(inside(SCRIPTS) || inside(VENDOR), `${where}: outside the scripts and the built vendor folder`);
    }
  }
});

test("the imports form no cycle", () => {
  const graph = new Map([...importGraph()].map(([file, edges]) => [file, edges.map((edge) => edge.target)]));
  const cycle = findCycle(graph);
  assert.equal(cycle, null, cycle && `import cycle: ${cycle.map(name).join(" -> ")}`);
});
