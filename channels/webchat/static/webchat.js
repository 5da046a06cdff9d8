/*
 * The web chat widget: one <script> tag on the business's site opens a chat with its bot.
 *
 *   <script src="https://support.example.sg/webchat/widget.js" async
 *           data-title="Pandan Lantern Bakehouse" data-lang="auto" data-color="#0b6e69"></script>
 *
 * Settings (all optional): data-title, data-lang (en, zh, ms, ta or auto), data-color (#rgb or
 * #rrggbb), data-position (right or left), data-open ("true": open at once).
 *
 * Every text from the server goes into the page as text (textContent, text nodes); nothing a
 * message says is ever parsed as HTML. The widget lives in a shadow root, so the site's styles
 * and the widget's do not mix.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.__sgbotWebchat) return;
  window.__sgbotWebchat = true;

  const STRINGS = {
    en: {
      open: "Chat with us", close: "Close chat", placeholder: "Type your message…",
      send: "Send", human: "Talk to a person", typing: "Typing…", messages: "Messages",
      notice: "We keep this conversation to answer you. Ask us at any time to see or delete it.",
      privacy: "Privacy policy", welcome: "Hello! How can we help you today?",
      connecting: "Connecting…", offline: "Connection lost. Retrying…",
      slow: "Too many messages. Please wait a moment.",
      failed: "Your message could not be sent. Please try again.",
      tooLong: "That message is too long to send.", you: "You", options: "Suggestions",
    },
    zh: {
      open: "与我们聊天", close: "关闭聊天", placeholder: "输入您的消息…",
      send: "发送", human: "转人工客服", typing: "正在输入…", messages: "消息",
      notice: "我们会保存此对话以便回复您。您可随时要求查看或删除。",
      privacy: "隐私政策", welcome: "您好！请问有什么可以帮您？",
      connecting: "正在连接…", offline: "连接中断，正在重试…",
      slow: "消息太多，请稍候。", failed: "消息发送失败，请重试。",
      tooLong: "消息太长，无法发送。", you: "您", options: "建议",
    },
    ms: {
      open: "Berbual dengan kami", close: "Tutup sembang", placeholder: "Taip mesej anda…",
      send: "Hantar", human: "Bercakap dengan orang", typing: "Sedang menaip…",
      messages: "Mesej",
      notice: "Kami menyimpan perbualan ini untuk menjawab anda. Minta pada bila-bila masa " +
        "untuk melihat atau memadamnya.",
      privacy: "Dasar privasi", welcome: "Helo! Apa yang boleh kami bantu hari ini?",
      connecting: "Menyambung…", offline: "Sambungan terputus. Mencuba semula…",
      slow: "Terlalu banyak mesej. Sila tunggu sebentar.",
      failed: "Mesej anda tidak dapat dihantar. Sila cuba lagi.",
      tooLong: "Mesej itu terlalu panjang untuk dihantar.", you: "Anda", options: "Cadangan",
    },
    ta: {
      open: "எங்களுடன் அரட்டையடிக்கவும்", close: "அரட்டையை மூடு",
      placeholder: "உங்கள் செய்தியை உள்ளிடவும்…", send: "அனுப்பு",
      human: "ஒருவருடன் பேசுங்கள்", typing: "தட்டச்சு செய்கிறது…", messages: "செய்திகள்",
      notice: "உங்களுக்குப் பதிலளிக்க இந்த உரையாடலைச் சேமிக்கிறோம். எப்போது வேண்டுமானாலும் " +
        "அதைப் பார்க்கவோ நீக்கவோ கேட்கலாம்.",
      privacy: "தனியுரிமைக் கொள்கை", welcome: "வணக்கம்! இன்று உங்களுக்கு எப்படி உதவலாம்?",
      connecting: "இணைக்கிறது…", offline: "இணைப்பு துண்டிக்கப்பட்டது. மீண்டும் முயல்கிறது…",
      slow: "அதிகமான செய்திகள். சற்றுக் காத்திருக்கவும்.",
      failed: "உங்கள் செய்தியை அனுப்ப முடியவில்லை. மீண்டும் முயற்சிக்கவும்.",
      tooLong: "இந்தச் செய்தி அனுப்ப முடியாத அளவுக்கு நீளமானது.", you: "நீங்கள்",
      options: "பரிந்துரைகள்",
    },
  };
  const HUMAN_COMMAND = "/human";
  const MAX_CHARS = 4000;
  const POLL_MS = 3000;
  const TYPING_AFTER_HANDLED_MS = 4000;
  const TYPING_MAX_MS = 30000;

  const attr = (name) => script.getAttribute(`data-${name}`);
  const base = (attr("server") || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  const lang = pickLanguage(attr("lang"));
  const S = STRINGS[lang];
  const storageKey = `sgbot-webchat:${base}`;

  function pickLanguage(wanted) {
    if (wanted && STRINGS[wanted]) return wanted;
    for (const tag of navigator.languages || [navigator.language || "en"]) {
      const code = String(tag).toLowerCase().split("-")[0];
      if (STRINGS[code]) return code;
    }
    return "en";
  }

  // --- DOM: built with createElement and textContent only ---
  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function icon(path) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  const host = el("div", { id: "sgbot-webchat" });
  const color = attr("color");
  if (color && /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(color)) {
    host.style.setProperty("--sgbot-accent", color);
  }
  const shadow = host.attachShadow({ mode: "open" });
  shadow.append(el("link", { rel: "stylesheet", href: `${base}/webchat/widget.css` }));

  const launcher = el("button", {
    type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "sgbot-panel",
    "aria-label": S.open, title: S.open,
  }, [icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z")]);
  const title = el("h2", { id: "sgbot-title", text: attr("title") || "" });
  const status = el("p", { class: "status", role: "status" });
  const closeButton = el("button", {
    type: "button", class: "close", "aria-label": S.close, title: S.close,
  }, [icon("M6 6l12 12M18 6L6 18")]);
  const notice = el("p", { class: "notice", text: S.notice });
  const list = el("ol", { class: "messages", role: "log", "aria-live": "polite",
    "aria-label": S.messages, tabindex: "0" });
  const typing = el("div", { class: "typing", hidden: "", "aria-label": S.typing, role: "img" },
    [el("span"), el("span"), el("span")]);
  const choices = el("div", { class: "choices", role: "group", "aria-label": S.options });
  const input = el("textarea", {
    id: "sgbot-input", rows: "1", maxlength: String(MAX_CHARS), placeholder: S.placeholder,
    "aria-label": S.placeholder, enterkeyhint: "send",
  });
  const sendButton = el("button", { type: "submit", class: "send", text: S.send });
  const form = el("form", { class: "composer" }, [input, sendButton]);
  const humanButton = el("button", { type: "button", class: "human", text: S.human });
  const panel = el("section", {
    id: "sgbot-panel", class: "panel", role: "dialog", "aria-labelledby": "sgbot-title",
    lang, hidden: "",
  }, [
    el("header", {}, [el("div", { class: "heading" }, [title, status]), closeButton]),
    list, typing, choices, form, el("footer", {}, [notice, humanButton]),
  ]);
  shadow.append(el("div", { class: `root ${attr("position") === "left" ? "left" : "right"}` },
    [panel, launcher]));

  // --- Messages ---
  const seen = new Set();
  let welcomed = false;

  function appendText(node, text) {
    // Links become <a> elements made here; everything else stays plain text.
    const pattern = /https?:\/\/[^\s<>"']+/g;
    let at = 0;
    for (const match of text.matchAll(pattern)) {
      const url = match[0].replace(/[.,;:!?)\]]+$/, "");
      node.append(document.createTextNode(text.slice(at, match.index)));
      node.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }));
      at = match.index + url.length;
    }
    node.append(document.createTextNode(text.slice(at)));
  }

  function shown(text) {
    return text.trim() === HUMAN_COMMAND ? S.human : text;
  }

  function addMessage(event) {
    const key = `${event.from}:${event.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const fromBot = event.from === "bot";
    const bubble = el("div", { class: "bubble" });
    appendText(bubble, shown(String(event.text || "")));
    const author = fromBot ? title.textContent : S.you;
    const who = el("span", { class: "visually-hidden", text: `${author}: ` });
    const item = el("li", { class: `message ${fromBot ? "from-bot" : "from-customer"}` },
      [who, bubble]);
    const at = event.at ? new Date(event.at) : null;
    if (at && !Number.isNaN(at.getTime())) {
      item.append(el("time", { datetime: at.toISOString(),
        text: at.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) }));
    }
    list.append(item);
    showChoices(fromBot ? event.choices || [] : []);
    scrollDown();
    return true;
  }

  function note(text) {
    list.append(el("li", { class: "note", text }));
    scrollDown();
  }

  function scrollDown() {
    list.scrollTop = list.scrollHeight;
  }

  function showChoices(options) {
    choices.replaceChildren();
    for (const option of options) {
      const button = el("button", { type: "button", text: String(option.label) });
      button.addEventListener("click", () => send(String(option.label), String(option.entry_id)));
      choices.append(button);
    }
  }

  function welcome() {
    if (welcomed) return;
    welcomed = true;
    const bubble = el("div", { class: "bubble", text: S.welcome });
    list.prepend(el("li", { class: "message from-bot welcome" }, [bubble]));
  }

  // --- Typing indicator: from sending until the reply, or a while after the message was handled ---
  const waiting = new Map();

  function wait(id) {
    clearTimeout(waiting.get(id));
    waiting.set(id, setTimeout(() => done(id), TYPING_MAX_MS));
    updateTyping();
  }

  function done(id) {
    clearTimeout(waiting.get(id));
    waiting.delete(id);
    updateTyping();
  }

  function handled(id) {
    if (!waiting.has(id)) return;
    clearTimeout(waiting.get(id));
    waiting.set(id, setTimeout(() => done(id), TYPING_AFTER_HANDLED_MS));
  }

  function replied() {
    for (const id of [...waiting.keys()]) done(id);
  }

  function updateTyping() {
    typing.hidden = waiting.size === 0;
    if (!typing.hidden) scrollDown();
  }

  // --- The token: kept in this site's storage, so a reload continues the conversation ---
  let token = null;
  try { token = localStorage.getItem(storageKey); } catch (_) { /* storage blocked */ }

  function keepToken(value) {
    token = value;
    try { localStorage.setItem(storageKey, value); } catch (_) { /* storage blocked */ }
  }

  function forgetToken() {
    token = null;
    try { localStorage.removeItem(storageKey); } catch (_) { /* storage blocked */ }
  }

  // --- Server frames ---
  function onReady(frame) {
    keepToken(frame.token);
    if (!attr("title") && frame.business) title.textContent = frame.business;
    if (frame.consent_text) notice.textContent = frame.consent_text;
    const url = String(frame.privacy_url || "");
    if (/^https?:\/\//i.test(url) && !notice.querySelector("a")) {
      notice.append(" ", el("a", { href: url, target: "_blank", rel: "noopener noreferrer",
        text: S.privacy }));
    }
    let answered = false;
    for (const event of frame.history || []) {
      if (addMessage(event) && event.from === "bot") answered = true;
    }
    if (seen.size === 0) welcome();
    if (answered) replied();
    setStatus("");
    flush();
  }

  function onFrame(frame) {
    if (frame.type === "ready") onReady(frame);
    else if (frame.type === "message") {
      if (addMessage(frame) && frame.from === "bot") replied();
    } else if (frame.type === "handled") handled(frame.id);
    else if (frame.type === "accepted") unanswered.delete(frame.id);
    else if (frame.type === "error") {
      unanswered.delete(frame.id);
      onError(frame.code, frame.id);
    }
  }

  function onError(code, id) {
    if (id) done(id);
    else replied();
    if (code === "rate_limited") note(S.slow);
    else if (code === "too_large") note(S.tooLong);
    else note(S.failed);
  }

  function setStatus(text) {
    status.textContent = text;
  }

  // --- Connection: a WebSocket; plain HTTP (send, poll) where WebSockets do not get through ---
  const wsUrl = `${base.replace(/^http/, "ws")}/webchat/socket`;
  let socket = null;
  let ready = false;
  let opened = false;
  let failures = 0;
  let polling = null;
  let retry = null;
  const queued = [];
  const unanswered = new Map(); // sent on a socket, not yet accepted: sent again after a reconnect

  function connect() {
    clearTimeout(retry);
    if (!("WebSocket" in window)) return startPolling();
    setStatus(S.connecting);
    let ws;
    try { ws = new WebSocket(wsUrl); } catch (_) { return startPolling(); }
    socket = ws;
    ws.addEventListener("open", () => {
      opened = true;
      failures = 0;
      ws.send(JSON.stringify({ type: "hello", token }));
    });
    ws.addEventListener("message", (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch (_) { return; }
      if (frame.type === "ready") {
        ready = true;
        stopPolling();
      }
      onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      ready = false;
      if (event.code === 4401) { forgetToken(); retry = setTimeout(connect, 0); return; }
      failures += 1;
      if (!opened && failures >= 2) startPolling();
      else if (!polling) setStatus(S.offline);
      const delay = event.code === 4429 ? 30000 : Math.min(30000, 500 * 2 ** failures);
      retry = setTimeout(connect, delay);
    });
  }

  async function http(path, options = {}) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${base}${path}`, { ...options, headers, mode: "cors" });
    let body = null;
    try { body = await response.json(); } catch (_) { /* no body */ }
    return { status: response.status, body };
  }

  async function session() {
    let answer = await http("/webchat/session", { method: "POST", body: JSON.stringify({ token }) });
    if (answer.status === 401) {
      forgetToken();
      answer = await http("/webchat/session", { method: "POST", body: "{}" });
    }
    if (answer.status !== 200) throw new Error(`session: ${answer.status}`);
    onReady(answer.body);
  }

  function startPolling() {
    if (polling) return;
    polling = setInterval(poll, POLL_MS);
    session().catch(() => setStatus(S.offline));
  }

  function stopPolling() {
    clearInterval(polling);
    polling = null;
  }

  async function poll() {
    if (ready) return stopPolling();
    try {
      if (!token) return await session();
      const answer = await http("/webchat/history");
      if (answer.status === 401) { forgetToken(); return; }
      let fromBot = false;
      for (const event of (answer.body && answer.body.history) || []) {
        if (addMessage(event) && event.from === "bot") fromBot = true;
      }
      if (fromBot) replied();
      setStatus("");
    } catch (_) {
      setStatus(S.offline);
    }
  }

  function flush() {
    // The server knows a message by its id, so one sent twice is still answered once.
    const again = [...unanswered.values()];
    unanswered.clear();
    for (const message of [...again, ...queued.splice(0)]) transmit(message);
  }

  async function transmit(message) {
    if (ready && socket && socket.readyState === WebSocket.OPEN) {
      unanswered.set(message.id, message);
      socket.send(JSON.stringify({ type: "message", ...message }));
      return;
    }
    if (!polling || !token) {
      queued.push(message);
      return;
    }
    try {
      const answer = await http("/webchat/messages", { method: "POST", body: JSON.stringify(message) });
      if (answer.status !== 202) onError(answer.body && answer.body.code, message.id);
    } catch (_) {
      onError("unavailable", message.id);
    }
  }

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function send(text, choice = null) {
    text = text.trim();
    if (!text && !choice) return;
    const id = newId();
    addMessage({ type: "message", from: "customer", id, text, at: new Date().toISOString() });
    showChoices([]);
    wait(id);
    transmit({ id, text, choice });
  }

  // --- Opening, closing, typing ---
  let started = false;

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    host.classList.add("open");
    if (!started) { started = true; connect(); }
    scrollDown();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    host.classList.remove("open");
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
    input.value = "";
    input.style.height = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = `${Math.min(input.scrollHeight + 2, 120)}px`;
  });
  humanButton.addEventListener("click", () => send(HUMAN_COMMAND));

  function mount() {
    document.body.append(host);
    if (attr("open") === "true") open();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
