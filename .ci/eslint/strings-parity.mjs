// The console speaks both languages everywhere: every key of the Chinese strings has an English
// string and the other way round, groups included (statuses, tiers, actions...), and each
// string names the same {placeholders} in both; and every key the modules beside it look up
// with a literal, t("key"), exists. Usage: node strings-parity.mjs <strings.js>
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const file = resolve(process.argv[2]);
const { STRINGS } = await import(pathToFileURL(file).href);
const problems = [];
const holes = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");

function compare(zh, en, path) {
  for (const k of Object.keys(zh)) if (!(k in en)) problems.push(`${path}${k}: no English string`);
  for (const k of Object.keys(en)) if (!(k in zh)) problems.push(`${path}${k}: no Chinese string`);
  for (const k of Object.keys(zh)) {
    if (!(k in en)) continue;
    const a = zh[k], b = en[k];
    if (typeof a === "object" && typeof b === "object") compare(a, b, `${path}${k}.`);
    else if (typeof a !== typeof b) problems.push(`${path}${k}: a ${typeof a} in Chinese, a ${typeof b} in English`);
    else if (holes(a) !== holes(b)) problems.push(`${path}${k}: placeholders {${holes(a)}} in Chinese, {${holes(b)}} in English`);
  }
}

compare(STRINGS.zh, STRINGS.en, "");
const dir = dirname(file);
for (const name of readdirSync(dir).filter((n) => n.endsWith(".js"))) {
  for (const m of readFileSync(join(dir, name), "utf8").matchAll(/\bt\("([A-Za-z0-9_]+)"\s*[,)]/g)) {
    if (!(m[1] in STRINGS.zh)) problems.push(`${name}: t("${m[1]}") has no string`);
  }
}
if (problems.length) {
  console.error(`strings-parity: ${problems.length} problem(s) in ${process.argv[2]}:\n  ` + problems.join("\n  "));
  process.exit(1);
}
console.log(`strings-parity: ${Object.keys(STRINGS.zh).length} keys in both languages`);
