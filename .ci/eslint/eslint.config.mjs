// ESLint flat config for the browser JavaScript of handoff_service (run by .ci/lint-js.sh
// from the repository root). No build step: the console is native ES modules, the
// customer chat page one classic script next to the vendored widget.
import js from "@eslint/js";
import globals from "globals";
import { fileURLToPath } from "node:url";

// the config lives in .ci/eslint/; its file patterns are relative to the repository root
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const HTML_SINK = "puts markup on the page; write data with textContent (el() in console/dom.js)";

export default [
  {
    basePath: ROOT,
    ignores: ["handoff_service/static/vendor/**"],
  },
  {
    basePath: ROOT,
    files: ["handoff_service/static/**/*.js"],
    ...js.configs.recommended,
  },
  {
    basePath: ROOT,
    files: ["handoff_service/static/**/*.js"],
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "no-unused-vars": ["error", { vars: "all", args: "after-used", caughtErrors: "all" }],
      "no-undef": "error",
      eqeqeq: ["error", "always"],
      "max-lines": ["error", { max: 250, skipBlankLines: false, skipComments: false }],
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: HTML_SINK },
        { property: "outerHTML", message: HTML_SINK },
        { property: "insertAdjacentHTML", message: HTML_SINK },
        { property: "setHTMLUnsafe", message: HTML_SINK },
        { property: "createContextualFragment", message: HTML_SINK },
        { object: "document", property: "write", message: HTML_SINK },
        { object: "document", property: "writeln", message: HTML_SINK },
      ],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-script-url": "error",
    },
  },
  {
    // the agent console: ES modules loaded by <script type="module">
    basePath: ROOT,
    files: ["handoff_service/static/console/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
  },
  {
    // the customer chat page: a classic script (ES5 style) after the widget's UMD bundle
    basePath: ROOT,
    files: ["handoff_service/static/chat.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "script", globals: { ...globals.browser } },
    rules: {
      // ES5-style catch clauses need a binding even when it is not used
      "no-unused-vars": ["error", { vars: "all", args: "after-used", caughtErrors: "none" }],
    },
  },
];
