// Builds the browser files the pages load from the packages pinned in package-lock.json, into
// templates/static/vendor/ (generated, git-ignored; `make` runs this, and the Dockerfile's
// frontend stage):
//
//   vendor/uppy.js               src/uppy.js and what it imports, one minified ES module
//   vendor/uppy.LICENSES.txt     the licence of every package inside it
//   vendor/uplot/                uPlot's browser build, copied as published (IIFE + CSS)
//
// The output is written to a temporary folder and renamed into place, so a failed build never
// leaves half a folder behind.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const STATIC = join(HERE, "..", "templates", "static");
const OUT = join(STATIC, "vendor");
const TMP = join(STATIC, ".vendor-build");

function packageOf(input) {
  // "node_modules/@uppy/core/lib/Uppy.js" -> "@uppy/core"; our own files -> null
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  return match ? match[1] : null;
}

function licence(name) {
  const folder = join(HERE, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(folder, file), "utf8").trim() : `License: ${meta.license}`;
  return `${meta.name} ${meta.version} (${meta.license})\n\n${text}\n`;
}

rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });

const result = await build({
  entryPoints: [join(HERE, "src", "uppy.js")],
  outfile: join(TMP, "uppy.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  legalComments: "none",
  banner: { js: "/*! Uppy and its dependencies, bundled by frontend/build.mjs; licences: uppy.LICENSES.txt */" },
  metafile: true,
  logLevel: "warning",
});
const packages = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter(Boolean))].sort();
writeFileSync(join(TMP, "uppy.LICENSES.txt"), packages.map(licence).join("\n" + "-".repeat(72) + "\n\n"));

const uplot = join(HERE, "node_modules", "uplot");
mkdirSync(join(TMP, "uplot"));
for (const file of ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"]) {
  cpSync(join(uplot, file), join(TMP, "uplot", file.replace("dist/", "")));
}

if (existsSync(OUT)) rmSync(OUT, { recursive: true });
renameSync(TMP, OUT);
const size = readFileSync(join(OUT, "uppy.js")).length;
console.log(`frontend: vendor/uppy.js ${(size / 1024).toFixed(0)} KiB (${packages.length} packages), vendor/uplot`);
