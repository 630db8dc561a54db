// The conversation composer: reply/note tabs, and drafts kept per conversation
// and mode in localStorage so a reload or a slip of the mouse loses nothing.
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

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
