// Fails when the ES modules under a directory import each other in a cycle.
// Usage: node import-cycles.mjs <dir>. Reads the static `import ... from "./x.js"`
// and `export ... from "./x.js"` statements (relative specifiers only).
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] || ".");
const FROM = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm;

function modules(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return modules(p);
    return d.name.endsWith(".js") || d.name.endsWith(".mjs") ? [p] : [];
  });
}

const graph = new Map();
for (const file of modules(root)) {
  const text = readFileSync(file, "utf8");
  graph.set(file, [...text.matchAll(FROM)].map((m) => resolve(dirname(file), m[1] || m[2])));
}

const WHITE = 0, GREY = 1, BLACK = 2;
const colour = new Map([...graph.keys()].map((f) => [f, WHITE]));
const cycles = [];
function visit(file, path) {
  colour.set(file, GREY);
  for (const dep of graph.get(file) || []) {
    if (!graph.has(dep)) continue; // outside the directory, or missing (the browser reports that)
    if (colour.get(dep) === GREY) cycles.push([...path.slice(path.indexOf(dep)), dep]);
    else if (colour.get(dep) === WHITE) visit(dep, [...path, dep]);
  }
  colour.set(file, BLACK);
}
for (const file of graph.keys()) if (colour.get(file) === WHITE) visit(file, [file]);

const rel = (f) => relative(process.cwd(), f);
for (const c of cycles) console.error(`import cycle: ${c.map(rel).join(" -> ")}`);
if (cycles.length) process.exit(1);
console.log(`import-cycles: ${graph.size} modules in ${rel(root)}, no cycle`);
