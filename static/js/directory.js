/*
 * The directory pages' keyboard and selection helpers. Enhancements only: without JavaScript the
 * search is a form, and rows are ticked one by one.
 *
 * - "/" focuses the page's search box (an element with data-search-shortcut), unless the person is
 *   typing in a field already.
 * - In a form marked data-selection, a data-select-all checkbox ticks every row of the table, and
 *   data-selection-count shows how many are ticked. These survive htmx swaps (delegated listeners).
 */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var search = document.querySelector("[data-search-shortcut]");
    if (!search) return;
    event.preventDefault();
    search.focus();
    if (typeof search.select === "function") search.select();
  });

  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input[type='checkbox'][name='id']"));
  }

  function refresh(form) {
    var all = boxes(form);
    var ticked = all.filter(function (box) {
      return box.checked;
    }).length;
    form.querySelectorAll("[data-selection-count]").forEach(function (counter) {
      counter.textContent = String(ticked);
    });
    form.querySelectorAll("[data-select-all]").forEach(function (master) {
      master.checked = all.length > 0 && ticked === all.length;
      master.indeterminate = ticked > 0 && ticked < all.length;
    });
  }

  function arm(root) {
    root.querySelectorAll("form[data-selection]").forEach(function (form) {
      form.querySelectorAll("[data-select-all], [data-select-all-label]").forEach(function (element) {
        element.hidden = false;
      });
      refresh(form);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest("form[data-selection]");
    if (!form) return;
    if (target.hasAttribute("data-select-all")) {
      boxes(form).forEach(function (box) {
        box.checked = target.checked;
      });
    }
    refresh(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    arm(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    arm(event.target);
  });
})();
