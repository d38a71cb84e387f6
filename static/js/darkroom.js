// Small progressive enhancements. Everything works without this file.
(function () {
  "use strict";

  // Elapsed time on running job cards ticks between server updates.
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".elapsed[data-started]").forEach(function (el) {
      var started = parseInt(el.getAttribute("data-started"), 10);
      if (!isNaN(started)) el.textContent = Math.max(0, Math.round(now - started)) + " s";
    });
  }
  setInterval(tick, 1000);

  // The model picker's search box filters the options of the select next to it.
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-filter-select]")) return;
    var select = document.getElementById(box.getAttribute("data-filter-select"));
    if (!select) return;
    var needle = box.value.trim().toLowerCase();
    select.querySelectorAll("option").forEach(function (option) {
      var hay = (option.textContent + " " + option.value).toLowerCase();
      option.hidden = needle !== "" && hay.indexOf(needle) === -1 && !option.selected;
    });
  });
})();

// Gallery and history: copy a prompt, and select many images at once.
(function () {
  "use strict";

  // "Copy prompt" buttons stay hidden without JavaScript (the prompt text is selectable).
  function revealCopyButtons(root) {
    root.querySelectorAll("[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
    root.querySelectorAll(".select-all[hidden]").forEach(function (label) {
      label.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { revealCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { revealCopyButtons(event.target); });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http on a LAN has no clipboard API: copy through a selection instead.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var label = button.textContent;
    copyText(source.textContent).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select the text to copy it"; }
    );
    setTimeout(function () { button.textContent = label; }, 1500);
  });

  // The selection bar counts ticked images; "Select all shown" ticks every tile loaded so far.
  function updateCount(form) {
    var count = document.querySelectorAll('input[type=checkbox][name=image][form="' + form.id + '"]:checked').length;
    var label = form.querySelector("[data-selection-count]");
    if (!label) return;
    if (!label.hasAttribute("data-idle")) label.setAttribute("data-idle", label.textContent);
    label.textContent = count ? count + " selected" : label.getAttribute("data-idle");
    label.classList.toggle("has-selection", count > 0);
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches) return;
    if (box.matches("[data-select-all]")) {
      var form = box.closest("form");
      document.querySelectorAll('input[type=checkbox][name=image][form="' + form.id + '"]').forEach(function (tile) {
        tile.checked = box.checked;
      });
      updateCount(form);
    } else if (box.matches("input[type=checkbox][name=image][form]")) {
      var owner = document.getElementById(box.getAttribute("form"));
      if (owner) updateCount(owner);
    }
  });
})();
