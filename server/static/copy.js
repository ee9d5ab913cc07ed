// Copy buttons of command blocks (docs/i18n.md, "Command blocks").
// Same-origin, no inline script (the CSP allows only this file).  Each
// <button data-copy="ID" hidden> copies exactly the text of the <code id="ID">
// it names.  The buttons stay hidden without this script or without a way
// to copy, and the command stays selectable by hand.
"use strict";

(function () {
  var canWrite = Boolean(navigator.clipboard && window.isSecureContext);
  var canExec = Boolean(document.queryCommandSupported && document.queryCommandSupported("copy"));
  if (!canWrite && !canExec) {
    return;
  }

  function copyBySelection(code) {
    var selection = window.getSelection();
    selection.selectAllChildren(code);
    var done = document.execCommand("copy");
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(code) {
    if (canWrite) {
      return navigator.clipboard.writeText(code.textContent).catch(function () {
        return copyBySelection(code);
      });
    }
    return copyBySelection(code);
  }

  function wire(button) {
    var code = document.getElementById(button.getAttribute("data-copy"));
    if (!code) {
      return;
    }
    var label = button.textContent;
    var status = button.parentNode.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(code).then(
        function () {
          button.textContent = button.getAttribute("data-copied") || label;
          if (status) {
            status.textContent = button.getAttribute("data-copied") || "";
          }
          window.setTimeout(function () {
            button.textContent = label;
          }, 2000);
        },
        function () {
          // Leave the command selected, for the visitor to copy by hand.
          window.getSelection().selectAllChildren(code);
        }
      );
    });
  }

  function start() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i += 1) {
      wire(buttons[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
