// strace pages: the share box shows the full address of the view, and the
// copy button puts it on the clipboard. Everything else works without JS.
(function () {
  "use strict";
  var input = document.getElementById("share-url");
  var button = document.getElementById("copy-link");
  if (!input || !button) return;
  input.value = window.location.href;
  input.addEventListener("focus", function () { input.select(); });
  function done(ok) {
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    button.classList.toggle("copied", ok);
    window.setTimeout(function () {
      button.textContent = "Copy link";
      button.classList.remove("copied");
    }, 1600);
  }
  button.addEventListener("click", function () {
    var url = window.location.href;
    input.value = url;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () { done(true); }, function () {
        input.select();
        done(false);
      });
    } else {
      input.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  });
})();
