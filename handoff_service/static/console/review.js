// The trainers' review view (role trainer; supervisors too): the KPIs strip, the filter bar,
// the list of misunderstood messages and the selected one's detail, driven from the keyboard.
//
//   review_list (vocabulary, filters, list, selection) <- review_detail (item, context, actions)
//   <- review_keys; review_kpis; review_reports; this module wires them together.

import { $ } from "./dom.js";
import { loadIntents } from "./intents.js";
import { initDetail, onReviewAction, renderDetail } from "./review_detail.js";
import { initKeys, renderHelp } from "./review_keys.js";
import { kpisSoon, loadKpis, renderKpis } from "./review_kpis.js";
import { loadMore, loadReviewItems, loadVocabulary, onSelect, renderFilterOptions, renderReviewList } from "./review_list.js";
import { loadReports, renderReports } from "./review_reports.js";

export { onOpenCaseFromReview } from "./review_detail.js";

// Everything the view shows, fresh from the server (on entering it).
export async function enterReview() {
  await Promise.all([loadVocabulary(), loadIntents(), loadKpis(), loadReports()]);
  await loadReviewItems();
  renderDetail();
}

// In the current language (after a switch), without asking the server again.
export function renderReview() {
  renderFilterOptions();
  renderReviewList();
  renderDetail();
  renderKpis();
  renderReports();
  renderHelp();
}

export function initReview() {
  onSelect(renderDetail);
  onReviewAction(kpisSoon);
  const form = $("review-filters");
  form.addEventListener("submit", (ev) => { ev.preventDefault(); loadReviewItems(); });
  form.addEventListener("change", () => loadReviewItems());
  $("rf-clear").addEventListener("click", () => { form.reset(); loadReviewItems(); });
  $("review-more").addEventListener("click", () => loadMore());
  initDetail();
  initKeys();
  renderHelp();
}
