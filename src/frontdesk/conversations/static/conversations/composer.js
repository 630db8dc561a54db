// The conversation composer: reply/note tabs, drafts kept per conversation
// and mode in localStorage so a reload or a slip of the mouse loses nothing, and the
// macro and canned-reply pickers.
// The server marks a composer rendered after a successful send with
// data-sent="<mode>"; that draft is then dropped. No text lives here: every
// label is in the HTML.
(function () {
  "use strict";

  function key(form, mode) {
    return "fd:draft:" + form.getAttribute("data-number") + ":" + mode;
  }

  function currentMode(form) {
    var input = form.querySelector("[data-composer-kind]");
    return input ? input.value : "reply";
  }

  function read(name) {
    try { return window.localStorage.getItem(name) || ""; } catch (e) { return ""; }
  }

  function write(name, value) {
    try {
      if (value) window.localStorage.setItem(name, value);
      else window.localStorage.removeItem(name);
    } catch (e) { /* storage full or disabled: drafts are a convenience */ }
  }

  function setMode(form, mode) {
    var input = form.querySelector("[data-composer-kind]");
    var area = form.querySelector("[data-composer]");
    if (!input || !area) return;
    var previous = input.value;
    if (previous !== mode) {
      write(key(form, previous), area.value);
      area.value = read(key(form, mode));
      input.value = mode;
    }
    form.classList.remove("mode-reply", "mode-note");
    form.classList.add("mode-" + mode);
    form.querySelectorAll("[data-composer-mode]").forEach(function (tab) {
      tab.setAttribute("aria-pressed", tab.getAttribute("data-composer-mode") === mode ? "true" : "false");
    });
    area.focus();
  }

  function init(root) {
    var forms = [];
    if (root instanceof HTMLFormElement && root.hasAttribute("data-composer-form")) forms.push(root);
    if (root.querySelectorAll) {
      root.querySelectorAll("form[data-composer-form]").forEach(function (f) { forms.push(f); });
    }
    forms.forEach(function (form) {
      if (form.hasAttribute("data-composer-ready")) return;
      form.setAttribute("data-composer-ready", "");
      var area = form.querySelector("[data-composer]");
      if (!area) return;
      var sent = form.getAttribute("data-sent");
      if (sent) write(key(form, sent), "");
      // Text the server sent back (after an error or a collision) wins over a stored draft.
      if (!area.value) area.value = read(key(form, currentMode(form)));
      else write(key(form, currentMode(form)), area.value);
    });
  }

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.hasAttribute("data-composer")) return;
    var form = area.form;
    if (form && form.hasAttribute("data-composer-form")) write(key(form, currentMode(form)), area.value);
  });

  document.addEventListener("click", function (event) {
    var tab = event.target instanceof Element ? event.target.closest("[data-composer-mode]") : null;
    if (!tab) return;
    var form = tab.closest("form[data-composer-form]");
    if (form) setMode(form, tab.getAttribute("data-composer-mode"));
  });

  // Macros and canned replies: their pickers come from the automation app, loaded into the
  // composer. A canned reply is text put where the cursor is. A macro puts its text there
  // too and marks the form with its id: the send then goes to the macro's endpoint, which
  // sends the reply and applies the macro's actions together (nothing changes before).
  function insertText(area, text) {
    if (!text) return;
    var value = area.value;
    var focused = document.activeElement === area;
    var start = focused ? area.selectionStart : value.length;
    var end = focused ? area.selectionEnd : value.length;
    var before = value.slice(0, start);
    var gap = before && !/\n\s*$/.test(before) ? "\n\n" : "";
    area.value = before + gap + text + value.slice(end);
    var caret = (before + gap + text).length;
    area.focus();
    area.setSelectionRange(caret, caret);
    // The draft keeps it, as it keeps what was typed.
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function fetchJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); });
  }

  function applyMacro(form, data) {
    var area = form.querySelector("[data-composer]");
    var input = form.querySelector("[data-macro-input]");
    if (!area || !input) return;
    insertText(area, data.text);
    input.value = String(data.id);
    var status = form.querySelector("select[name='then_status']");
    if (data.status && status && status.querySelector("option[value='" + data.status + "']")) {
      status.value = data.status;
    }
    var applied = form.querySelector("[data-macro-applied]");
    var summary = form.querySelector("[data-macro-summary]");
    var template = form.querySelector("template[data-macro-summary-text]");
    if (summary && template) {
      summary.textContent = template.content.textContent.trim()
        .replace("{name}", data.name).replace("{actions}", (data.actions || []).join("; "));
    }
    if (applied) applied.hidden = false;
  }

  function clearMacro(form) {
    var input = form.querySelector("[data-macro-input]");
    var applied = form.querySelector("[data-macro-applied]");
    if (input) input.value = "";
    if (applied) applied.hidden = true;
  }

  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!(picker instanceof HTMLSelectElement)) return;
    var isMacro = picker.hasAttribute("data-macro-picker");
    if (!isMacro && !picker.hasAttribute("data-canned-picker")) return;
    var form = picker.closest("form[data-composer-form]");
    var option = picker.selectedOptions[0];
    var url = option ? option.getAttribute("data-url") : null;
    picker.value = "";
    if (!form || !url) return;
    fetchJson(url).then(function (data) {
      if (isMacro) applyMacro(form, data);
      else insertText(form.querySelector("[data-composer]"), data.text);
    }, function () { /* gone meanwhile: the picker simply does nothing */ });
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-macro-clear]") : null;
    var form = button ? button.closest("form[data-composer-form]") : null;
    if (form) clearMacro(form);
  });

  function macroSendUrl(form) {
    var input = form.querySelector("[data-macro-input]");
    return input && input.value ? form.getAttribute("data-macro-send") : null;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-composer-form")) return;
    var url = macroSendUrl(form);
    if (url) event.detail.path = url;
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-composer-form")) return;
    var url = macroSendUrl(form);
    if (url) form.action = url;
  }, true);

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
