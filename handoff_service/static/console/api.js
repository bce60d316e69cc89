// The service's JSON API: fetch with the session cookie and the CSRF token, errors
// as ApiError, and the text an error is shown with.

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code || String(status));
    this.status = status; this.code = code; this.details = details || {};
  }
}

function csrfToken() {
  const m = document.cookie.split("; ").find((c) => c.startsWith("handoff_csrf="));
  return m ? decodeURIComponent(m.slice("handoff_csrf=".length)) : "";
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  let resp;
  try {
    resp = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", t("err_network"));
  }
  let data = null;
  if (resp.status !== 204) { try { data = await resp.json(); } catch { data = null; } }
  if (!resp.ok) {
    const err = (data && data.error) || {};
    const e = new ApiError(resp.status, err.code, err.message, err.details);
    e.retryAfter = resp.headers.get("Retry-After");
    throw e;
  }
  return data;
}

export function errorText(e) {
  switch (e.code) {
    case "case_already_taken": return t("taken_by", { owner: e.details.owner || "?" });
    case "not_case_handler": case "not_case_participant": case "not_case_owner": return t("err_not_handler");
    case "not_case_reader": return t("err_not_reader");
    case "concurrent_change": return t("err_conflict");
    case "invalid_transition": return t("err_transition", { msg: e.message });
    case "csrf_failed": case "unauthenticated": return t("err_csrf");
    case "invalid_credentials": return t("err_credentials");
    case "rate_limited": return t("err_rate", { s: e.retryAfter || "60" });
    case "network": return t("err_network");
    case "correction_message_not_found": return t("err_correction_not_found");
    case "review_item_not_found": return t("err_review_not_found");
    case "review_state_conflict": return t("err_transition", { msg: e.message });
    case "unknown_intent": return t("err_unknown_intent");
    case "rasa_unavailable": return t("err_rasa_unavailable");
    default: return t("err_generic", { msg: e.message });
  }
}
