// tracedeck pages: the few things that need a script.
//  - "Copy link": copies this page's address (its state is all in the URL).
//  - Home: drag & drop or pick a file, upload it with progress (bytes, %,
//    speed), then follow the analysis until the capture's page is ready.
//  - GET forms (filters) leave their empty fields out of the address.
// Everything else is plain HTML; pages work without this file.
"use strict";

(function () {
  function $(id) { return document.getElementById(id); }

  function human(n) {
    if (n < 1000) return n + " B";
    var units = ["kB", "MB", "GB", "TB"];
    var u = -1;
    do { n /= 1000; u++; } while (n >= 999.5 && u < units.length - 1);
    return (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + " " + units[u];
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  // Buttons that copy their data-copy value (a share link shown once).
  function setupCopyValues() {
    document.querySelectorAll("button[data-copy]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        copyText(btn.dataset.copy).then(function () {
          btn.textContent = "Copied";
        }, function () {
          window.prompt("Copy this link:", btn.dataset.copy);
        });
      });
    });
  }

  function setupCopy() {
    setupCopyValues();
    var btn = $("copy-link");
    if (!btn) return;
    btn.addEventListener("click", function () {
      var url = window.location.href;
      btn.dataset.copied = url;
      copyText(url).then(function () {
        btn.textContent = "Link copied";
        btn.classList.add("done");
      }, function () {
        // No clipboard (e.g. plain http): show the link so it can be copied by hand.
        window.prompt("Copy this link:", url);
      });
      window.setTimeout(function () {
        btn.textContent = "Copy link";
        btn.classList.remove("done");
      }, 2000);
    });
  }

  function setupUpload() {
    var form = $("drop");
    var input = $("file");
    if (!form || !input || !window.XMLHttpRequest) return;
    var box = $("progress"), bar = $("progress-bar"), text = $("progress-text"),
      speed = $("progress-speed"), stage = $("progress-stage"), err = $("progress-error"),
      name = $("progress-name");
    var busy = false;

    function fail(message) {
      busy = false;
      form.classList.remove("busy");
      err.hidden = false;
      err.textContent = message;
      stage.textContent = "Failed";
    }

    function poll(id, url) {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", "/api/captures/" + encodeURIComponent(id));
      xhr.responseType = "json";
      xhr.onload = function () {
        var s = xhr.response || {};
        if (xhr.status !== 200) { fail((s && s.error) || ("status " + xhr.status)); return; }
        if (s.status === "done") {
          stage.textContent = "Done";
          bar.value = 1;
          window.location.assign(url);
          return;
        }
        if (s.status === "failed") {
          fail("The analysis failed: " + (s.error || "unknown error"));
          return;
        }
        stage.textContent = s.status === "queued" ? "Waiting for a worker" : "Analyzing";
        bar.value = s.progress || 0;
        text.textContent = Math.round((s.progress || 0) * 100) + "% read · " +
          (s.packets || 0).toLocaleString("en") + " packets";
        speed.textContent = "";
        window.setTimeout(function () { poll(id, url); }, 400);
      };
      xhr.onerror = function () { fail("Lost the connection to the server."); };
      xhr.send();
    }

    // A TLS key log goes with the capture as the multipart part `keylog`:
    // chosen in its own field, or dropped together with the capture.
    function isKeyLog(f) {
      return /(\.txt|\.log|\.keys?)$|keylog|sslkey/i.test(f.name);
    }

    function send(file, keylog) {
      if (busy || !file) return;
      var picked = $("keylog");
      if (!keylog && picked && picked.files && picked.files.length) keylog = picked.files[0];
      busy = true;
      form.classList.add("busy");
      box.hidden = false;
      err.hidden = true;
      name.textContent = file.name;
      stage.textContent = "Uploading";
      bar.value = 0;
      var started = performance.now();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/captures?name=" + encodeURIComponent(file.name));
      var body = file;
      if (keylog) {
        body = new FormData();
        body.append("file", file, file.name);
        body.append("keylog", keylog, "keylog");
      } else {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
      }
      xhr.responseType = "json";
      xhr.upload.onprogress = function (e) {
        var total = e.lengthComputable ? e.total : file.size;
        var secs = Math.max((performance.now() - started) / 1000, 0.001);
        bar.value = total ? e.loaded / total : 0;
        text.textContent = human(e.loaded) + " of " + human(total) + " · " +
          (total ? Math.floor(e.loaded / total * 100) : 0) + "%";
        speed.textContent = human(e.loaded / secs) + "/s";
      };
      xhr.onload = function () {
        var r = xhr.response || {};
        if (xhr.status !== 201 || !r.id) {
          fail((r && r.error) || ("The upload failed with status " + xhr.status + "."));
          return;
        }
        stage.textContent = "Analyzing";
        bar.value = 0;
        poll(r.id, r.url);
      };
      xhr.onerror = function () { fail("The upload was interrupted."); };
      xhr.send(body);
    }

    input.addEventListener("change", function () {
      if (input.files && input.files.length) send(input.files[0]);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (input.files && input.files.length) send(input.files[0]);
    });
    ["dragenter", "dragover"].forEach(function (t) {
      document.addEventListener(t, function (e) {
        e.preventDefault();
        form.classList.add("over");
      });
    });
    ["dragleave", "dragend"].forEach(function (t) {
      document.addEventListener(t, function (e) {
        if (e.target === document.documentElement || e.target === form) form.classList.remove("over");
      });
    });
    document.addEventListener("drop", function (e) {
      e.preventDefault();
      form.classList.remove("over");
      var files = e.dataTransfer && e.dataTransfer.files;
      if (!files || !files.length) return;
      var list = Array.prototype.slice.call(files, 0, 2);
      var keys = list.length === 2 ? list.filter(isKeyLog)[0] : null;
      var capture = list.filter(function (f) { return f !== keys; })[0];
      send(capture, keys);
    });
  }

  // A GET form sends its empty fields too (`&method=&host=`); leave them
  // out so the address holds only the state that is set.
  function setupForms() {
    Array.prototype.forEach.call(document.querySelectorAll("form[method=get]"), function (form) {
      form.addEventListener("submit", function () {
        var emptied = Array.prototype.filter.call(form.elements, function (el) {
          return el.name && !el.disabled && el.value === "";
        });
        emptied.forEach(function (el) { el.disabled = true; });
        // Enabled again for the back button, which may show this page as it was.
        window.setTimeout(function () {
          emptied.forEach(function (el) { el.disabled = false; });
        }, 0);
      });
    });
  }

  function ready() {
    setupForms();
    setupCopy();
    setupUpload();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
