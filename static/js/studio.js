// The Generate page and job cards: shortcuts, countdowns, colour pickers and
// reference images by drag-and-drop or paste. The page works without this file.
(function () {
  "use strict";

  // Ctrl+Enter (Cmd+Enter on a Mac) submits the Generate form from any of its fields.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("#generate-form");
    if (!form) return;
    event.preventDefault();
    form.requestSubmit();
  });

  // A job waiting out a retry counts down to the time the server set for it.
  function countdown() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var until = parseInt(el.getAttribute("data-until"), 10);
      if (!isNaN(until)) el.textContent = Math.max(0, Math.ceil(until - now)) + " s";
    });
  }
  setInterval(countdown, 1000);

  // Colour pickers fill the text box next to them: #rrggbb, or "r, g, b".
  function toHex(text, kind) {
    if (kind === "hex") return /^#[0-9a-f]{6}$/i.test(text) ? text : null;
    var parts = text.replace(/[\[\]\s]/g, "").split(",").map(Number);
    if (parts.length !== 3 || parts.some(function (n) { return isNaN(n) || n < 0 || n > 255; })) return null;
    return "#" + parts.map(function (n) { return ("0" + n.toString(16)).slice(-2); }).join("");
  }
  function syncPickers(root) {
    root.querySelectorAll("input.color-picker[data-color-for]").forEach(function (picker) {
      var box = document.getElementById(picker.getAttribute("data-color-for"));
      var hex = box && toHex(box.value, picker.getAttribute("data-color-kind"));
      if (hex) picker.value = hex;
    });
  }
  document.addEventListener("input", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("input.color-picker[data-color-for]")) return;
    var box = document.getElementById(picker.getAttribute("data-color-for"));
    if (!box) return;
    var hex = picker.value;
    box.value = picker.getAttribute("data-color-kind") === "rgb"
      ? [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); }).join(", ")
      : hex;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Reference images: dropped or pasted files join the file input, with a preview.
  function fileInput() {
    return document.querySelector("#generate-form input[type=file][name=references]");
  }
  function addFiles(files) {
    var input = fileInput();
    if (!input) return false;
    var images = Array.prototype.filter.call(files, function (f) { return /^image\//.test(f.type); });
    if (!images.length) return false;
    var transfer = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { transfer.items.add(f); });
    images.forEach(function (f) { transfer.items.add(f); });
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("#generate-form input[type=file][name=references]")) return;
    var zone = input.closest("[data-dropzone]");
    var list = zone && zone.querySelector(".reference-list");
    if (!list) return;
    list.querySelectorAll(".reference-thumb.is-new").forEach(function (el) { el.remove(); });
    Array.prototype.forEach.call(input.files, function (file) {
      var thumb = document.createElement("span");
      thumb.className = "reference-thumb is-new";
      thumb.setAttribute("data-testid", "new-reference");
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = "Reference: " + file.name;
      img.width = 64;
      img.height = 64;
      thumb.appendChild(img);
      list.appendChild(thumb);
    });
  });
  document.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("is-over");
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone) zone.classList.remove("is-over");
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("is-over");
    addFiles(event.dataTransfer.files);
  });
  document.addEventListener("paste", function (event) {
    if (!event.target.closest || !event.target.closest("#generate-form")) return;
    var files = event.clipboardData && event.clipboardData.files;
    if (files && files.length && addFiles(files)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-remove-reference]");
    if (!button) return;
    var thumb = button.closest(".reference-thumb");
    var form = button.closest("form");
    if (thumb) thumb.remove();
    if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Switching model or style swaps the options: keep "Advanced" open if it was,
  // and refresh the estimate for the options now shown.
  var advancedOpen = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "options") return;
    var details = event.detail.target.querySelector("details.advanced");
    advancedOpen = details ? details.open : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) return;
    syncPickers(document);
    if (target.id !== "options") return;
    var details = document.querySelector("#options details.advanced");
    if (details && advancedOpen) details.open = true;
    document.body.dispatchEvent(new Event("options-swapped"));
  });
  document.addEventListener("DOMContentLoaded", function () { syncPickers(document); countdown(); });
})();
