// Frontdesk's own page behaviour: keyboard shortcuts, list navigation, confirmations.
// Pages declare what they offer with data attributes; nothing here is page-specific.
//
//   data-shortcut="r"    pressing r clicks the element (or focuses it, if it is a field)
//   data-rowlist         a list whose [data-row] children j/k move through;
//                        o or Enter follows the selected row's a[data-open]
//   data-confirm="text"  a form asks before it submits
//   data-select-all="n"  a checkbox that ticks every checkbox named n in its form
(function () {
  "use strict";

  function typingInField(target) {
    if (!(target instanceof HTMLElement)) return false;
    if (target.isContentEditable) return true;
    return ["INPUT", "TEXTAREA", "SELECT"].indexOf(target.tagName) !== -1;
  }

  function rows() {
    var list = document.querySelector("[data-rowlist]");
    return list ? Array.prototype.slice.call(list.querySelectorAll("[data-row]")) : [];
  }

  function select(row) {
    rows().forEach(function (r) {
      r.classList.remove("is-selected");
      r.removeAttribute("aria-current");
    });
    if (!row) return;
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
    var link = row.querySelector("a[data-open]");
    if (link) link.focus({ preventScroll: true });
    sessionStorage.setItem("fd:selected-row", row.getAttribute("data-row") || "");
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (r) { return r.classList.contains("is-selected"); });
    var next = current === -1 ? 0 : Math.min(all.length - 1, Math.max(0, current + step));
    select(all[next]);
  }

  function openSelected() {
    var row = document.querySelector("[data-rowlist] [data-row].is-selected");
    var link = row && row.querySelector("a[data-open]");
    if (link) { link.click(); return true; }
    return false;
  }

  function restoreSelection() {
    var id = sessionStorage.getItem("fd:selected-row");
    if (!id) return;
    var row = rows().find(function (r) { return r.getAttribute("data-row") === id; });
    if (row) {
      row.classList.add("is-selected");
      row.setAttribute("aria-current", "true");
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typingInField(event.target)) {
      event.target.blur();
      return;
    }
    if (typingInField(event.target)) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "?") {
      if (dialog && !dialog.open) dialog.showModal();
      event.preventDefault();
      return;
    }
    if (dialog && dialog.open) return;
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    if ((event.key === "o" || event.key === "Enter") && document.querySelector("[data-rowlist]")) {
      if (event.key === "Enter" && event.target instanceof HTMLAnchorElement) return;
      if (openSelected()) event.preventDefault();
      return;
    }
    var target = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (!target) return;
    event.preventDefault();
    if (typingInField(target)) {
      target.focus();
    } else {
      target.click();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) return;
    var name = box.getAttribute("data-select-all");
    var scope = box.form || document;
    scope.querySelectorAll('input[type="checkbox"][name="' + CSS.escape(name) + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });

  document.addEventListener("DOMContentLoaded", restoreSelection);
  document.addEventListener("htmx:afterSettle", restoreSelection);
})();
