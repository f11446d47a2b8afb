/* Relaydesk workspace behaviour: keyboard shortcuts, composer mode, queue selection. No build step. */
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // ---- composer: Reply | Internal note --------------------------------------------------
  function setComposerMode(composer, mode) {
    if (!composer) return;
    composer.classList.toggle("note-mode", mode === "note");
    composer.querySelectorAll("[data-mode-tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.dataset.modeTab === mode ? "true" : "false");
    });
    composer.querySelectorAll("[data-mode-only]").forEach(function (el) {
      el.hidden = el.dataset.modeOnly !== mode;
      el.querySelectorAll("button, select, input").forEach(function (c) { c.disabled = el.hidden; });
    });
    var textarea = composer.querySelector("textarea");
    if (textarea) {
      textarea.placeholder = mode === "note" ? textarea.dataset.notePlaceholder : textarea.dataset.replyPlaceholder;
      textarea.setAttribute("aria-label", textarea.placeholder);
    }
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-mode-tab]");
    if (tab) {
      event.preventDefault();
      var composer = tab.closest(".composer");
      setComposerMode(composer, tab.dataset.modeTab);
      composer.querySelector("textarea").focus();
    }
    if (event.target.closest("[data-shortcuts]")) {
      event.preventDefault();
      var dialog = document.getElementById("shortcuts-dialog");
      if (dialog) dialog.showModal();
    }
  });

  // ---- queue: selection and bulk bar -----------------------------------------------------
  function updateBulkBar() {
    var bar = document.getElementById("bulkbar");
    if (!bar) return;
    var checked = document.querySelectorAll("input[name=ticket]:checked");
    bar.classList.toggle("visible", checked.length > 0);
    var count = bar.querySelector("[data-selected-count]");
    if (count) count.textContent = checked.length;
    document.querySelectorAll(".queue-row").forEach(function (row) {
      var box = row.querySelector("input[name=ticket]");
      row.classList.toggle("selected", !!(box && box.checked));
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-mention]") && event.target.value) {
      var area = event.target.closest(".composer").querySelector("textarea");
      var at = area.selectionStart || area.value.length;
      var insert = (at > 0 && !/\s/.test(area.value[at - 1]) ? " " : "") + "@" + event.target.value + " ";
      area.value = area.value.slice(0, at) + insert + area.value.slice(at);
      area.focus();
      area.selectionStart = area.selectionEnd = at + insert.length;
      event.target.value = "";
    }
    if (event.target.matches("[data-attach]")) {
      var names = Array.prototype.map.call(event.target.files, function (f) { return f.name; }).join(", ");
      var label = event.target.closest(".composer-foot").querySelector("[data-attached-names]");
      if (label) label.textContent = names;
    }
    if (event.target.matches("input[name=ticket]")) updateBulkBar();
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=ticket]").forEach(function (box) { box.checked = event.target.checked; });
      updateBulkBar();
    }
  });

  // ---- keyboard shortcuts ----------------------------------------------------------------
  var cursor = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".queue-row[data-href]")); }
  function focusRow(index) {
    var list = rows();
    if (!list.length) return;
    cursor = Math.max(0, Math.min(index, list.length - 1));
    var link = list[cursor].querySelector("a.subject");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (typing(document.activeElement)) {
      if (event.key === "Escape") document.activeElement.blur();
      return;
    }
    var composer = document.querySelector(".composer");
    switch (event.key) {
      case "j": focusRow(cursor + 1); break;
      case "k": focusRow(cursor - 1); break;
      case "/": {
        var search = document.getElementById("global-search");
        if (search) { event.preventDefault(); search.focus(); }
        break;
      }
      case "?": {
        var dialog = document.getElementById("shortcuts-dialog");
        if (dialog) dialog.showModal();
        break;
      }
      case "r":
      case "n":
        if (composer) {
          event.preventDefault();
          setComposerMode(composer, event.key === "r" ? "reply" : "note");
          composer.querySelector("textarea").focus();
        }
        break;
      case "a": {
        var assign = document.querySelector("[data-shortcut-assign]");
        if (assign) assign.click();
        break;
      }
      case "e": {
        var resolve = document.querySelector("[data-shortcut-resolve]");
        if (resolve) resolve.click();
        break;
      }
      default: return;
    }
  });

  // Re-initialise after htmx swaps (new composer, new rows).
  document.addEventListener("htmx:afterSettle", function () {
    var composer = document.querySelector(".composer");
    if (composer) setComposerMode(composer, composer.dataset.mode || "reply");
    updateBulkBar();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var composer = document.querySelector(".composer");
    if (composer) setComposerMode(composer, composer.dataset.mode || "reply");
    // Toasts fade after a while; errors stay until dismissed by navigation.
    setTimeout(function () {
      document.querySelectorAll(".messages .alert.success, .messages .alert.info").forEach(function (el) { el.remove(); });
    }, 6000);
  });
  // Show server errors from htmx requests instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.createElement("div");
    box.className = "messages";
    box.innerHTML = '<div class="alert error" role="alert"></div>';
    box.firstChild.textContent = "Something went wrong (" + event.detail.xhr.status + "). Reload the page and try again.";
    document.body.appendChild(box);
    setTimeout(function () { box.remove(); }, 8000);
  });
})();
