// Live updates over one websocket to /ws/live/, turned into DOM events on <body>:
//   fd:inbox-changed                  something the user may see changed
//   fd:conversation-<n>-changed       conversation <n> changed; detail {kind, number}
//   fd:conversation-<n>-presence      others viewing <n>; detail {viewers: [{id, name, typing}]}
//   fd:notifications-changed          the user's own notifications changed; detail {kind}
// On a workspace page showing a conversation ([data-conversation]) it also tells
// the server who is viewing and typing, and shows the others in [data-presence].
// No user-visible text lives here: it comes from <template data-viewing|data-typing>.
(function () {
  "use strict";

  var HEARTBEAT_MS = 20000;
  var TYPING_IDLE_MS = 4000;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 30000;
  // Close codes after which retrying cannot help (signed out, not allowed).
  var FINAL_CLOSE_CODES = [4401, 4403];

  var socket = null;
  var retryMs = RETRY_FIRST_MS;
  var retryTimer = null;
  var heartbeatTimer = null;
  var viewing = null; // the conversation number this page announced
  var typing = false;
  var typingTimer = null;

  function emit(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    }
  }

  function pageConversation() {
    if (!document.body.classList.contains("workspace")) {
      return null; // the portal never takes part in presence
    }
    var root = document.querySelector("[data-conversation]");
    var number = root ? parseInt(root.getAttribute("data-conversation"), 10) : NaN;
    return number > 0 ? number : null;
  }

  // Announce the conversation now on the page (after load, a reconnect or an htmx swap).
  function syncViewing(force) {
    var number = pageConversation();
    if (number === viewing && !force) {
      return;
    }
    if (viewing !== null && viewing !== number) {
      send({ action: "leave", number: viewing });
    }
    viewing = number;
    typing = false;
    if (viewing !== null) {
      send({ action: "view", number: viewing });
    }
  }

  function setTyping(value) {
    if (viewing === null || typing === value) {
      return;
    }
    typing = value;
    send({ action: "typing", number: viewing, typing: value });
  }

  function onComposerInput(event) {
    var target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || !target.closest("[data-composer]")) {
      return;
    }
    setTyping(true);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () { setTyping(false); }, TYPING_IDLE_MS);
  }

  function onSubmit(event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.querySelector("[data-composer]")) {
      window.clearTimeout(typingTimer);
      setTyping(false);
    }
  }

  function templateText(box, selector) {
    var root = box.closest("[data-conversation]") || document;
    var template = box.querySelector(selector) || root.querySelector(selector);
    return template ? template.content.textContent.trim() : "{name}";
  }

  function renderPresence(number, viewers) {
    if (number !== viewing) {
      return;
    }
    var box = document.querySelector("[data-presence]");
    if (!box) {
      return;
    }
    box.querySelectorAll("[data-presence-item]").forEach(function (item) { item.remove(); });
    var itemTag = box.tagName === "UL" || box.tagName === "OL" ? "li" : "p";
    viewers.forEach(function (viewer) {
      var item = document.createElement(itemTag);
      var text = templateText(box, viewer.typing ? "template[data-typing]" : "template[data-viewing]");
      item.setAttribute("data-presence-item", String(viewer.id));
      item.className = viewer.typing ? "presence-viewer typing" : "presence-viewer";
      // Names are text, never markup.
      item.textContent = text.split("{name}").join(viewer.name);
      box.appendChild(item);
    });
    box.hidden = viewers.length === 0;
  }

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message.event === "conversation_changed") {
      emit("fd:conversation-" + message.number + "-changed", { kind: message.kind, number: message.number });
      emit("fd:inbox-changed", { kind: message.kind, number: message.number });
    } else if (message.event === "inbox_changed") {
      emit("fd:inbox-changed", { kind: message.kind });
    } else if (message.event === "notifications_changed") {
      emit("fd:notifications-changed", { kind: message.kind });
    } else if (message.event === "presence") {
      renderPresence(message.number, message.viewers);
      emit("fd:conversation-" + message.number + "-presence", { viewers: message.viewers });
    }
  }

  function connect() {
    retryTimer = null;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/live/");
    socket.addEventListener("open", function () {
      retryMs = RETRY_FIRST_MS;
      syncViewing(true);
      window.clearInterval(heartbeatTimer);
      heartbeatTimer = window.setInterval(function () { send({ action: "heartbeat" }); }, HEARTBEAT_MS);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      window.clearInterval(heartbeatTimer);
      socket = null;
      if (FINAL_CLOSE_CODES.indexOf(event.code) !== -1) {
        return;
      }
      // Jittered exponential backoff, so a restarted server is not hit by every tab at once.
      var delay = retryMs / 2 + Math.random() * (retryMs / 2);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      retryTimer = window.setTimeout(connect, delay);
    });
  }

  function start() {
    document.addEventListener("input", onComposerInput);
    document.addEventListener("submit", onSubmit, true);
    // htmx may swap in another conversation without a page load.
    document.body.addEventListener("htmx:afterSettle", function () { syncViewing(false); });
    window.addEventListener("online", function () {
      if (!socket && retryTimer) {
        window.clearTimeout(retryTimer);
        connect();
      }
    });
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
