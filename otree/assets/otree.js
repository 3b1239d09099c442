// gotree's page script: the auto-advance socket, the wait-page socket, the
// countdown of timed pages and a guard against double submission. Sockets
// reconnect by themselves; a server that finds the state already changed on
// connect tells the page at once, so a lost message never strands anyone.
(function () {
  "use strict";
  var cfgNode = document.getElementById("otree-config");
  var cfg = cfgNode ? JSON.parse(cfgNode.textContent) : {};
  var form = document.getElementById("form");

  function socketURL(path) {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    return proto + location.host + path;
  }

  // connect opens a socket that reopens itself after a drop, with back-off.
  // Now and then it asks the server for the state again, so that a push
  // lost on the way cannot leave the page waiting.
  function connect(path, onMessage) {
    var delay = 500;
    function open() {
      var ws = new WebSocket(socketURL(path));
      var check = null;
      ws.onopen = function () {
        delay = 500;
        // 15 to 25 s, so that a room of pages opened together does not
        // check all at once.
        check = setInterval(function () { ws.send("{}"); }, 15000 + Math.random() * 10000);
      };
      ws.onmessage = function (ev) {
        var data = {};
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        onMessage(data);
      };
      ws.onclose = function () {
        clearInterval(check);
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  var reloading = false;
  function reload() {
    if (reloading) { return; }
    reloading = true;
    window.location.reload();
  }

  if (cfg.autoAdvance) {
    connect(cfg.autoAdvance, function (data) { if (data.auto_advanced) { reload(); } });
  }
  if (cfg.waitPage) {
    connect(cfg.waitPage, function (data) { if (data.status === "ready") { reload(); } });
  }

  // The countdown follows the server's deadline, corrected for the offset
  // between this browser's clock and the server's. The page submits what
  // was typed when the countdown shows 0:00, a second before the deadline,
  // so that its request reaches the server before the server's own
  // timeout, which would submit the page without the browser's values.
  if (cfg.deadline) {
    var offset = cfg.serverNow - Date.now();
    var out = document.querySelector(".otree-timer__time");
    var submitted = false;
    var lead = 1000;
    var tick = function () {
      var left = Math.max(0, cfg.deadline - (Date.now() + offset));
      var secs = Math.floor(left / 1000);
      if (out) {
        var m = Math.floor(secs / 60), s = secs % 60;
        out.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      }
      if (left < lead) {
        clearInterval(timer);
        if (form && cfg.isForm && !submitted) {
          submitted = true;
          var flag = document.createElement("input");
          flag.type = "hidden";
          flag.name = "timeout_happened";
          flag.value = "1";
          form.appendChild(flag);
          form.noValidate = true;
          form.submit();
        }
      }
    };
    var timer = setInterval(tick, 100);
    tick();
  }

  // A second click on Next would post a stale page; the server ignores it,
  // but disabling the button spares the request.
  if (form) {
    form.addEventListener("submit", function (ev) {
      var btn = ev.submitter;
      if (btn && btn.name) {
        var keep = document.createElement("input");
        keep.type = "hidden";
        keep.name = btn.name;
        keep.value = btn.value;
        form.appendChild(keep);
      }
      setTimeout(function () {
        var buttons = form.querySelectorAll("button");
        for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
      }, 0);
      setTimeout(function () {
        var buttons = form.querySelectorAll("button");
        for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
      }, 15000);
    });
  }
})();
