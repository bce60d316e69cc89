// Customer chat page: mounts the vendored rasa-webchat widget (UMD build) on
// Rasa's socket.io channel. Chinese by default; the English switch
// re-initialises the widget with English strings and customData.language "en".
// The widget has no unmount API (its socket would stay open in a detached
// tree), so the switch re-initialises it by loading the page again with ?lang=;
// the widget keeps its conversation in sessionStorage and Rasa keeps the session
// (session persistence), so the same conversation continues in the new language.
(function () {
  "use strict";
  var STRINGS = {
    zh: {
      page: "在线客服",
      intro: "您好，欢迎光临！请在下方留言，我们的智能助手和人工客服会为您服务。",
      title: "在线客服",
      subtitle: "您好，有什么可以帮您？",
      hint: "请输入您的问题…",
      connecting: "正在连接客服…",
      htmlLang: "zh-CN",
    },
    en: {
      page: "Customer service",
      intro: "Hello, welcome! Leave us a message below: our assistant and our agents are here to help.",
      title: "Customer service",
      subtitle: "Hello, how can we help you?",
      hint: "Type your question…",
      connecting: "Connecting…",
      htmlLang: "en",
    },
  };
  var KEY = "chat.language";
  var host = document.getElementById("webchat");
  var customerToken = host.getAttribute("data-customer-token") || "";

  function chosen() {
    var fromUrl = new URLSearchParams(window.location.search).get("lang");
    if (fromUrl === "en" || fromUrl === "zh") return fromUrl;
    try {
      var saved = window.sessionStorage.getItem(KEY);
      if (saved === "en" || saved === "zh") return saved;
    } catch (e) { /* storage disabled: Chinese */ }
    return "zh";
  }

  function mountFunction() {
    var lib = window.WebChat && window.WebChat.default;
    if (!lib) return null;
    // rasa-webchat 1.x exports the mount function itself; 0.x had .init
    return typeof lib.init === "function" ? lib.init : lib;
  }

  function render(lang) {
    var s = STRINGS[lang];
    document.documentElement.lang = s.htmlLang;
    document.title = s.page + (lang === "zh" ? " · Customer service" : " · 在线客服");
    document.getElementById("page-title").textContent = s.page;
    document.getElementById("intro").textContent = s.intro;
    ["zh", "en"].forEach(function (l) {
      document.getElementById("lang-" + l).setAttribute("aria-pressed", String(l === lang));
    });
    var mount = mountFunction();
    if (!mount) {
      host.textContent = lang === "zh" ? "聊天组件加载失败，请刷新页面。" : "The chat could not be loaded; please reload the page.";
      return;
    }
    var el = document.createElement("div");
    el.className = "webchat-mount";
    el.setAttribute("data-lang", lang);
    host.appendChild(el);
    mount({
      socketUrl: host.getAttribute("data-socket-url"),
      socketPath: host.getAttribute("data-socket-path") || "/socket.io/",
      // a shop that knows its customer renders a signed customer token (JWT) into data-customer-token
      customData: customerToken ? { language: lang, customer_token: customerToken } : { language: lang },
      initPayload: "/greet",
      title: s.title,
      subtitle: s.subtitle,
      inputTextFieldHint: s.hint,
      connectingText: s.connecting,
      embedded: true,
      showFullScreenButton: false,
      hideWhenNotConnected: false,
      withRules: false,
      params: { storage: "session" },
    }, el);
  }

  function switchTo(lang) {
    if (lang === current) return;
    try { window.sessionStorage.setItem(KEY, lang); } catch (e) { /* ignore */ }
    var url = new URL(window.location.href);
    url.searchParams.set("lang", lang);
    window.location.assign(url.toString());
  }

  var current = chosen();
  document.querySelectorAll(".lang button").forEach(function (b) {
    b.addEventListener("click", function () { switchTo(b.getAttribute("data-lang")); });
  });
  render(current);
})();
