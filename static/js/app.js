/*
 * zoomadmin shell behaviour. Everything here is an enhancement: without JavaScript the pages still work
 * (toasts simply stay, menus close when their summary is clicked again).
 * CSP forbids inline handlers, so behaviour hangs off data attributes through delegated listeners.
 */
(function () {
  "use strict";

  var LEAVE_MS = 160;

  function dismissToast(toast) {
    if (!toast || toast.classList.contains("toast-leaving")) return;
    toast.classList.add("toast-leaving");
    window.setTimeout(function () {
      toast.remove();
    }, LEAVE_MS);
  }

  // Success and info toasts leave on their own, but never while the pointer or focus is on them.
  function armToast(toast) {
    var delay = parseInt(toast.getAttribute("data-autodismiss") || "", 10);
    if (!delay || toast.hasAttribute("data-armed")) return;
    toast.setAttribute("data-armed", "");
    var timer = null;
    function start() {
      timer = window.setTimeout(function () {
        dismissToast(toast);
      }, delay);
    }
    function stop() {
      window.clearTimeout(timer);
    }
    toast.addEventListener("mouseenter", stop);
    toast.addEventListener("focusin", stop);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusout", start);
    start();
  }

  function armToasts(root) {
    root.querySelectorAll(".toast[data-autodismiss]").forEach(armToast);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss='toast']");
    if (button) {
      dismissToast(button.closest(".toast"));
      return;
    }
    // A click outside an open menu closes it, like a native menu.
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary && menu.contains(document.activeElement)) summary.focus();
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var region = document.getElementById("toasts");
    if (!region) return;
    armToasts(region);
    // Toasts arriving later (htmx out-of-band swaps) are armed as they land.
    new MutationObserver(function () {
      armToasts(region);
    }).observe(region, { childList: true });
  });
})();
