// Drag and drop for the CSV upload page: a file dropped on the form becomes the file input's file.
// Without JavaScript the file picker alone works. Loaded with `defer` (CSP: no inline script).
(function () {
  "use strict";
  function setUp(form) {
    var input = form.querySelector('input[type="file"]');
    if (!input) return;
    var hint = form.querySelector("[data-dropzone-hint]");
    function stop(event) {
      event.preventDefault();
      event.stopPropagation();
    }
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        stop(event);
        form.classList.add("is-dragging");
        if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        stop(event);
        form.classList.remove("is-dragging");
      });
    });
    form.addEventListener("drop", function (event) {
      stop(event);
      form.classList.remove("is-dragging");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      if (files.length > 1) {
        if (hint) hint.textContent = "Drop one file at a time.";
        return;
      }
      input.files = files;
      if (hint) hint.textContent = "Ready to plan: " + files[0].name + ".";
    });
  }
  function init() {
    document.querySelectorAll("form[data-dropzone]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
