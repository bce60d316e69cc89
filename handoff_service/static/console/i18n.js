// Language choice (zh by default, kept in localStorage) and the text lookups.

import { STRINGS } from "./strings.js";

const LANG_KEY = "console.language";
let lang = (() => {
  try { return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh"; } catch { return "zh"; }
})();

export const getLang = () => lang;

export function setLang(value) {
  lang = value === "en" ? "en" : "zh";
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* ignore */ }
}

// The string for key in the current language (else Chinese, else the key), with {name} filled from vars.
export function t(key, vars) {
  let s = STRINGS[lang][key];
  if (s === undefined) s = STRINGS.zh[key] !== undefined ? STRINGS.zh[key] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

// The label of a status, tier or timeline action (group "statuses", "tiers", "actions"), else the key.
export const label = (group, key) => (STRINGS[lang][group] && STRINGS[lang][group][key]) || key;
