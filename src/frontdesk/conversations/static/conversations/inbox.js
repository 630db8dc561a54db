// The inbox list reloads itself when realtime.js reports a change; keep the
// boxes the agent had ticked ticked across that reload.
(function () {
  "use strict";

  var ticked = null;

  function isList(event) {
    var target = event.detail && event.detail.target;
    return target instanceof HTMLElement && target.id === "inbox-list";
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isList(event)) return;
    ticked = {};
    event.detail.target.querySelectorAll('input[name="conversation"]:checked').forEach(function (box) {
      ticked[box.value] = true;
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isList(event) || !ticked) return;
    event.detail.target.querySelectorAll('input[name="conversation"]').forEach(function (box) {
      if (ticked[box.value]) box.checked = true;
    });
    ticked = null;
  });
})();
