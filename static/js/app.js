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

  // An htmx request that fails (a crash, an expired form, a page gone, no network) swaps nothing: say so
  // in an error toast (the server-rendered template in base.html) instead of leaving the click unanswered.
  // A failure already on screen is not repeated, so a poll against a server that is down adds one toast.
  function failureText(status) {
    if (!status) return "zoomadmin could not be reached. Check the connection, then try again.";
    if (status === 403) return "This page has expired or this is not allowed here. Reload the page and try again.";
    if (status === 404) return "What this acted on is no longer there. Reload the page.";
    return "zoomadmin could not finish this (error " + status + "). Reload the page and check whether the change " +
      "was made before trying again.";
  }

  function showFailure(text) {
    var region = document.getElementById("toasts");
    var template = document.getElementById("toast-error-template");
    if (!region || !template) return;
    var shown = Array.prototype.some.call(region.querySelectorAll(".toast-error .toast-text"), function (node) {
      return node.textContent === text;
    });
    if (shown) return;
    var toast = template.content.firstElementChild.cloneNode(true);
    toast.querySelector(".toast-text").textContent = text;
    region.appendChild(toast);
  }

  document.addEventListener("htmx:responseError", function (event) {
    showFailure(failureText(event.detail.xhr.status));
  });
  document.addEventListener("htmx:sendError", function () {
    showFailure(failureText(0));
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
