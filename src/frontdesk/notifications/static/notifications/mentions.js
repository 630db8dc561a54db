// @-mention suggestions in the composer's note mode.
//
// A textarea with data-mention-source="<url>" asks that URL (?q=<letters>) for
// the colleagues who can see the conversation when the word being typed starts
// with @, and lists them under the field as an ARIA listbox: arrow keys move,
// Enter or Tab picks, Escape closes, a click picks too. Picking writes
// "@<handle> " in place of what was typed. Only in note mode (the form's
// [data-composer-kind] is "note"): a reply goes to the customer, where a
// mention means nothing. The list's label comes from data-mention-label; names
// are inserted as text, never markup.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  // The @word just before the caret: not inside an address such as bob@example.com.
  var TOKEN = /(^|[^\w@.+%-])@([\w.+%@-]{0,100})$/;

  var state = null; // {area, list, items, active, start, controller}
  var timer = null;
  var counter = 0;

  function inNoteMode(area) {
    var form = area.form;
    var kind = form ? form.querySelector("[data-composer-kind]") : null;
    return Boolean(kind && kind.value === "note");
  }

  function tokenAtCaret(area) {
    if (area.selectionStart !== area.selectionEnd) return null;
    var before = area.value.slice(0, area.selectionStart);
    var match = TOKEN.exec(before);
    if (!match) return null;
    return { prefix: match[2], start: before.length - match[2].length - 1 };
  }

  function listFor(area) {
    var id = area.getAttribute("aria-controls");
    var list = id ? document.getElementById(id) : null;
    if (list) return list;
    counter += 1;
    list = document.createElement("ul");
    list.id = "mention-list-" + counter;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", area.getAttribute("data-mention-label") || "");
    list.hidden = true;
    area.insertAdjacentElement("afterend", list);
    area.setAttribute("aria-controls", list.id);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-expanded", "false");
    list.addEventListener("mousedown", function (event) {
      var option = event.target instanceof Element ? event.target.closest("[role=option]") : null;
      if (!option || !state) return;
      event.preventDefault(); // keep the focus in the field
      pick(Number(option.getAttribute("data-index")));
    });
    return list;
  }

  function close() {
    if (!state) return;
    if (state.controller) state.controller.abort();
    state.list.hidden = true;
    state.list.textContent = "";
    state.area.setAttribute("aria-expanded", "false");
    state.area.removeAttribute("aria-activedescendant");
    state = null;
  }

  function highlight(index) {
    if (!state || !state.items.length) return;
    state.active = (index + state.items.length) % state.items.length;
    Array.prototype.forEach.call(state.list.children, function (option, i) {
      option.setAttribute("aria-selected", i === state.active ? "true" : "false");
    });
    state.area.setAttribute("aria-activedescendant", state.list.children[state.active].id);
  }

  function render(items) {
    state.items = items;
    state.list.textContent = "";
    if (!items.length) {
      close();
      return;
    }
    items.forEach(function (item, i) {
      var option = document.createElement("li");
      option.id = state.list.id + "-" + i;
      option.className = "mention-option";
      option.setAttribute("role", "option");
      option.setAttribute("data-index", String(i));
      var name = document.createElement("span");
      name.textContent = item.name;
      var handle = document.createElement("span");
      handle.className = "mention-handle";
      handle.textContent = "@" + item.handle;
      option.appendChild(name);
      option.appendChild(handle);
      state.list.appendChild(option);
    });
    state.list.hidden = false;
    state.area.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  function pick(index) {
    if (!state || !state.items[index]) return;
    var area = state.area;
    var text = "@" + state.items[index].handle + " ";
    var end = area.selectionStart;
    area.value = area.value.slice(0, state.start) + text + area.value.slice(end);
    var caret = state.start + text.length;
    area.setSelectionRange(caret, caret);
    close();
    // Drafts and "is typing" listen for input.
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function lookup(area) {
    var token = inNoteMode(area) ? tokenAtCaret(area) : null;
    if (!token) {
      close();
      return;
    }
    if (state && state.area !== area) close();
    if (!state) state = { area: area, list: listFor(area), items: [], active: 0, start: 0, controller: null };
    state.start = token.start;
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    var url = area.getAttribute("data-mention-source") + "?q=" + encodeURIComponent(token.prefix);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        if (state && state.controller === controller) render(data.results || []);
      })
      .catch(function () { /* aborted or offline: suggestions are a convenience */ });
  }

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.hasAttribute("data-mention-source")) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { lookup(area); }, DEBOUNCE_MS);
  });

  // Capture, so Escape closes the list before the page's own Escape leaves the field.
  document.addEventListener("keydown", function (event) {
    if (!state || event.target !== state.area || state.list.hidden) return;
    var handled = true;
    if (event.key === "ArrowDown") highlight(state.active + 1);
    else if (event.key === "ArrowUp") highlight(state.active - 1);
    else if (event.key === "Enter" || event.key === "Tab") pick(state.active);
    else if (event.key === "Escape") close();
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("focusout", function (event) {
    if (state && event.target === state.area) close();
  });

  // The composer is swapped by htmx after a send: a list of the old field goes with it.
  document.addEventListener("htmx:beforeSwap", close);
  document.addEventListener("click", function (event) {
    // Switching to reply mode ends the suggestions.
    if (state && event.target instanceof Element && event.target.closest("[data-composer-mode]")) close();
  });
})();
