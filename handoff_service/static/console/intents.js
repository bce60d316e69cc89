// The intents a label or an agent's correction may name (GET /api/review/intents, which asks
// Rasa's bridge), loaded once per sign-in into the page's one <datalist id="intent-options">.
// When the list is unavailable (Rasa unreachable, or the call failed) a name is not checked here:
// the caller shows intentsWarning() so the person knows it is not.

import { api, errorText } from "./api.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";

let loading = null;
let known = { available: false, intents: [], error: null, loaded: false };

// The list (cached; force: ask again). Never throws.
export function loadIntents(force) {
  if (loading && !force) return loading;
  loading = (async () => {
    try {
      const out = await api("GET", "/api/review/intents");
      const intents = Array.isArray(out.intents) ? out.intents.filter((x) => typeof x === "string") : [];
      known = { available: !!out.available && intents.length > 0, intents, error: out.error || null, loaded: true };
    } catch (e) {
      known = { available: false, intents: [], error: errorText(e), loaded: true };
    }
    const list = $("intent-options");
    clear(list);
    known.intents.forEach((name) => list.append(el("option", { value: name })));
    return known;
  })();
  return loading;
}

// Forget the list (sign-out): the next sign-in may see another one.
export function forgetIntents() {
  loading = null;
  known = { available: false, intents: [], error: null, loaded: false };
}

export const intentsAvailable = () => known.available;

// Why a name cannot be used ("" when it can): empty, or not on an available list.
export function intentProblem(name) {
  if (!name) return t("need_label");
  if (known.available && !known.intents.includes(name)) return t("not_an_intent", { name });
  return "";
}

// The warning to show beside a picker while the list is unavailable ("" when it is available).
export function intentsWarning() {
  if (!known.loaded || known.available) return "";
  return t("intents_unavailable", { msg: known.error || t("none") });
}
