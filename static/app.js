// tracedeck pages: the few things that need a script.
//  - "Copy link": copies this page's address (its state is all in the URL).
//  - Home and strace logs: drag & drop or pick a file, upload it with
//    progress (bytes, %, speed), then follow the analysis until its page is
//    ready. Empty files and captures dropped on the strace page are
//    refused before sending, with what to do instead.
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

  // The first bytes of a file, to tell a capture from an strace log.
  function sniff(file, done) {
    if (!window.FileReader || !file.slice) { done(""); return; }
    var r = new FileReader();
    r.onload = function () {
      var b = new Uint8Array(r.result), hex = "";
      for (var i = 0; i < b.length; i++) hex += ("0" + b[i].toString(16)).slice(-2);
      done(hex);
    };
    r.onerror = function () { done(""); };
    r.readAsArrayBuffer(file.slice(0, 4));
  }

  // pcap (both byte orders, µs and ns) and pcapng magic numbers.
  var CAPTURE_MAGIC = ["d4c3b2a1", "a1b2c3d4", "4d3cb2a1", "a1b23c4d", "0a0d0d0a"];

  // The drop zone of the home page (captures) and of /straces (logs): the
  // form says where to send (data-api) and what it takes (data-kind).
  function setupUpload() {
    var form = $("drop");
    var input = $("file");
    if (!form || !input || !window.XMLHttpRequest) return;
    var api = form.getAttribute("data-api") || "/api/captures";
    var strace = form.getAttribute("data-kind") === "strace";
    var box = $("progress"), bar = $("progress-bar"), text = $("progress-text"),
      speed = $("progress-speed"), stage = $("progress-stage"), err = $("progress-error"),
      name = $("progress-name");
    var busy = false;

    function fail(message, link) {
      busy = false;
      form.classList.remove("busy");
      box.hidden = false;
      err.hidden = false;
      err.textContent = message;
      if (link) {
        err.appendChild(document.createTextNode(" "));
        var a = document.createElement("a");
        a.href = link.href;
        a.textContent = link.text;
        err.appendChild(a);
      }
      stage.textContent = "Failed";
    }

    function poll(id, url) {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", api + "/" + encodeURIComponent(id));
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
          // The page of a failed upload says why, in full.
          window.location.assign(url);
          return;
        }
        stage.textContent = s.status === "queued" ? "Waiting for a worker" : (strace ? "Parsing" : "Analyzing");
        bar.value = s.progress || 0;
        text.textContent = Math.round((s.progress || 0) * 100) + "% read" +
          (strace ? "" : " · " + (s.packets || 0).toLocaleString("en") + " packets");
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

    function upload(files, keylog) {
      var first = files[0], total = 0;
      for (var i = 0; i < files.length; i++) total += files[i].size;
      if (keylog) total += keylog.size;
      busy = true;
      form.classList.add("busy");
      box.hidden = false;
      err.hidden = true;
      name.textContent = files.length > 1 ? files.length + " files" : first.name;
      stage.textContent = "Uploading";
      bar.value = 0;
      var started = performance.now();
      var xhr = new XMLHttpRequest();
      var body;
      // The team picked on the form (if the user is in any) goes as team=.
      var picked = $("upload-team"), team = picked && picked.value ?
        "team=" + encodeURIComponent(picked.value) : "";
      if (strace) {
        // Several logs (strace -ff) go as one multipart upload.
        body = new FormData();
        for (var j = 0; j < files.length; j++) body.append("file", files[j], files[j].name);
        xhr.open("POST", api + (team ? "?" + team : ""));
      } else if (keylog) {
        body = new FormData();
        body.append("file", first, first.name);
        body.append("keylog", keylog, "keylog");
        xhr.open("POST", api + "?name=" + encodeURIComponent(first.name) + (team ? "&" + team : ""));
      } else {
        body = first;
        xhr.open("POST", api + "?name=" + encodeURIComponent(first.name) + (team ? "&" + team : ""));
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
      }
      xhr.responseType = "json";
      xhr.upload.onprogress = function (e) {
        var sent = e.lengthComputable ? e.total : total;
        var secs = Math.max((performance.now() - started) / 1000, 0.001);
        bar.value = sent ? e.loaded / sent : 0;
        text.textContent = human(e.loaded) + " of " + human(sent) + " · " +
          (sent ? Math.floor(e.loaded / sent * 100) : 0) + "%";
        speed.textContent = human(e.loaded / secs) + "/s";
      };
      xhr.onload = function () {
        var r = xhr.response || {};
        if (xhr.status !== 201 || !r.id) {
          fail((r && r.error) || ("The upload failed with status " + xhr.status + "."));
          return;
        }
        stage.textContent = strace ? "Parsing" : "Analyzing";
        bar.value = 0;
        poll(r.id, r.url);
      };
      xhr.onerror = function () { fail("The upload was interrupted."); };
      xhr.send(body);
    }

    function send(list, keylog) {
      if (busy || !list || !list.length) return;
      var files = strace ? Array.prototype.slice.call(list) : [list[0]];
      var empty = files.filter(function (f) { return f.size === 0; });
      if (empty.length) {
        fail(empty[0].name + " is empty (0 bytes): " +
          (strace ? "strace writes its log with -o FILE; was the run still going?"
                  : "tcpdump writes its capture with -w FILE; was it stopped before any packet?"));
        return;
      }
      if (!strace) {
        var picked = $("keylog");
        if (!keylog && picked && picked.files && picked.files.length) keylog = picked.files[0];
        upload(files, keylog);
        return;
      }
      sniff(files[0], function (magic) {
        if (CAPTURE_MAGIC.indexOf(magic) >= 0 || magic.slice(0, 4) === "1f8b" && /\.(pcap|pcapng|cap)\.gz$/i.test(files[0].name)) {
          fail(files[0].name + " is a packet capture, not an strace log.",
            { href: "/", text: "Upload it on the captures page →" });
          return;
        }
        upload(files);
      });
    }

    // A capture goes as soon as it is picked; logs wait for the button (a
    // run of strace -ff is several files, picked perhaps in two goes).
    input.addEventListener("change", function () { if (!strace) send(input.files); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      send(input.files);
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
      var dropped = e.dataTransfer && e.dataTransfer.files;
      if (!dropped || !dropped.length) return;
      if (strace) { send(dropped); return; }
      var list = Array.prototype.slice.call(dropped, 0, 2);
      var keys = list.length === 2 ? list.filter(isKeyLog)[0] : null;
      var capture = list.filter(function (f) { return f !== keys; })[0];
      send([capture], keys);
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
