// Gallery, boards and history: the image viewer, the filter drawer on phones,
// and keyboard shortcuts on an image's page. Every page works without this file:
// tiles are links to the image's page and the filters are a plain form.
(function () {
  "use strict";

  function typing(event) {
    var el = event.target;
    return !!(el && el.closest && el.closest("input, select, textarea, [contenteditable]"));
  }

  function plainKey(event) {
    return !(event.ctrlKey || event.metaKey || event.altKey) && !typing(event);
  }

  // The filter drawer: on a narrow screen the filters slide in from the side.
  function setupDrawer() {
    var panel = document.querySelector("[data-filter-panel]");
    var toggle = document.querySelector("[data-filter-toggle]");
    if (!panel || !toggle) return;
    document.documentElement.classList.add("has-filter-drawer");
    toggle.hidden = false;
    var closers = panel.querySelectorAll("[data-filter-close]");
    closers.forEach(function (button) { button.hidden = false; });

    function setOpen(open) {
      panel.classList.toggle("is-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      document.documentElement.classList.toggle("filter-drawer-open", open);
      if (open) {
        var first = panel.querySelector("input, select, button");
        if (first) first.focus();
      }
    }
    toggle.addEventListener("click", function () { setOpen(!panel.classList.contains("is-open")); });
    closers.forEach(function (button) {
      button.addEventListener("click", function () { setOpen(false); toggle.focus(); });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && panel.classList.contains("is-open")) {
        setOpen(false);
        toggle.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (panel.classList.contains("is-open") && event.target.matches("[data-filter-backdrop]")) setOpen(false);
    });
  }

  // The viewer: a modal dialog over the grid, stepping through the tiles shown.
  function setupLightbox() {
    var dialog = document.getElementById("lightbox");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var image = dialog.querySelector("[data-lightbox-image]");
    var stage = dialog.querySelector("[data-lightbox-stage]");
    var prompt = dialog.querySelector("[data-lightbox-prompt]");
    var position = dialog.querySelector("[data-lightbox-position]");
    var download = dialog.querySelector("[data-lightbox-download]");
    var details = dialog.querySelector("[data-lightbox-page]");
    var favourite = dialog.querySelector("[data-lightbox-action=favourite]");
    var zoom = dialog.querySelector("[data-lightbox-action=zoom]");
    var current = null;
    var pendingStep = 0;

    function tiles() {
      return Array.prototype.slice.call(document.querySelectorAll(".gallery-tile[data-original]"));
    }

    function tileFor(id) {
      return document.querySelector('.gallery-tile[data-image="' + id + '"]');
    }

    function syncFavourite() {
      var tile = current && tileFor(current);
      var button = tile && tile.querySelector(".tile-favourite button");
      var on = !!button && button.getAttribute("aria-pressed") === "true";
      favourite.setAttribute("aria-pressed", on ? "true" : "false");
      favourite.classList.toggle("is-on", on);
      favourite.lastChild.textContent = on ? " Favourite" : " Favourite it";
      favourite.disabled = !button;
    }

    function setZoom(on) {
      stage.classList.toggle("is-zoomed", on);
      zoom.setAttribute("aria-pressed", on ? "true" : "false");
      zoom.textContent = on ? "Fit" : "Zoom";
    }

    function show(tile) {
      var list = tiles();
      current = tile.getAttribute("data-image");
      setZoom(false);
      var link = tile.querySelector("[data-lightbox]");
      var thumb = tile.querySelector("img");
      image.removeAttribute("src");
      image.width = parseInt(tile.getAttribute("data-width"), 10) || 0;
      image.height = parseInt(tile.getAttribute("data-height"), 10) || 0;
      image.src = tile.getAttribute("data-original");
      image.alt = thumb ? thumb.alt : "";
      var text = tile.querySelector("[data-prompt]");
      prompt.textContent = text ? text.textContent : "";
      position.textContent = (list.indexOf(tile) + 1) + " of " + list.length + (document.getElementById("gallery-next") ? "+" : "");
      download.href = tile.getAttribute("data-original") + "?download=1";
      details.href = link ? link.getAttribute("href") : "#";
      dialog.querySelectorAll("[data-lightbox-link]").forEach(function (action) {
        var source = tile.querySelector('[data-testid="' + action.getAttribute("data-lightbox-link") + '"]');
        action.hidden = !source;
        if (source) action.href = source.getAttribute("href");
      });
      dialog.querySelector(".lightbox-prev").disabled = list.indexOf(tile) === 0;
      dialog.querySelector(".lightbox-next").disabled = list.indexOf(tile) === list.length - 1 && !document.getElementById("gallery-next");
      syncFavourite();
    }

    function open(tile) {
      show(tile);
      if (!dialog.open) dialog.showModal();
    }

    function step(delta) {
      var list = tiles();
      var index = list.indexOf(tileFor(current));
      var target = list[index + delta];
      if (target) {
        show(target);
        return;
      }
      var more = document.getElementById("gallery-next");
      if (delta > 0 && more && window.htmx) {
        // Past the last tile loaded: load the next page, then step onto it.
        pendingStep = delta;
        window.htmx.trigger(more, "revealed");
      }
    }

    document.addEventListener("htmx:afterSettle", function () {
      if (!dialog.open || !current) return;
      if (pendingStep) {
        var delta = pendingStep;
        pendingStep = 0;
        step(delta);
      } else {
        syncFavourite();
      }
    });

    function toggleFavourite() {
      var tile = current && tileFor(current);
      var form = tile && tile.querySelector(".tile-favourite");
      if (form) form.requestSubmit();
    }

    document.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      var link = event.target.closest && event.target.closest("[data-lightbox]");
      if (!link) return;
      var tile = link.closest(".gallery-tile");
      if (!tile) return;
      event.preventDefault();
      open(tile);
    });

    dialog.addEventListener("click", function (event) {
      var button = event.target.closest("[data-lightbox-action]");
      if (button) {
        var action = button.getAttribute("data-lightbox-action");
        if (action === "close") dialog.close();
        else if (action === "prev") step(-1);
        else if (action === "next") step(1);
        else if (action === "favourite") toggleFavourite();
        else if (action === "zoom") setZoom(!stage.classList.contains("is-zoomed"));
      } else if (event.target === image) {
        setZoom(!stage.classList.contains("is-zoomed"));
      } else if (event.target === stage) {
        dialog.close();
      }
    });

    dialog.addEventListener("keydown", function (event) {
      if (!plainKey(event)) return;
      var key = event.key;
      if (key === "ArrowLeft") step(-1);
      else if (key === "ArrowRight") step(1);
      else if (key === "f" || key === "F") toggleFavourite();
      else if (key === "d" || key === "D") download.click();
      else if (key === "z" || key === "Z" || key === "+" || key === "-") setZoom(key === "-" ? false : key === "+" ? true : !stage.classList.contains("is-zoomed"));
      else return;
      event.preventDefault();
    });

    dialog.addEventListener("close", function () {
      var tile = current && tileFor(current);
      var link = tile && tile.querySelector("[data-lightbox]");
      image.removeAttribute("src");
      if (link) link.focus();
    });
  }

  // An image's own page: ← → go to the newer and older image, F favourites, D downloads.
  function setupImagePage() {
    var page = document.querySelector("[data-image-page]");
    if (!page) return;
    document.addEventListener("keydown", function (event) {
      if (!plainKey(event)) return;
      var target = null;
      if (event.key === "ArrowLeft") target = page.querySelector("[rel=prev]");
      else if (event.key === "ArrowRight") target = page.querySelector("[rel=next]");
      else if (event.key === "f" || event.key === "F") target = page.querySelector("[data-testid=favourite]");
      else if (event.key === "d" || event.key === "D") target = page.querySelector("[data-testid=download]");
      if (!target) return;
      event.preventDefault();
      target.click();
    });
  }

  function start() {
    setupDrawer();
    setupLightbox();
    setupImagePage();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
