// Keeps the page current without a reload: every few seconds, while the tab is visible, fetch
// the live part of the same URL and swap it in, keeping keyboard focus and open details.
// Without JavaScript the page is the same, only as of its last load.
(function () {
  "use strict";
  var PERIOD = 3000;
  var region = document.querySelector("[data-live]");
  if (!region || !window.fetch) { return; }
  var busy = false;

  function editing() {
    // A reader choosing a filter or on a button keeps the page still under their hands.
    var active = document.activeElement;
    return active && region.contains(active) && /^(SELECT|INPUT|BUTTON|TEXTAREA)$/.test(active.tagName);
  }

  function refresh() {
    if (busy || document.hidden || editing()) { return; }
    busy = true;
    fetch(window.location.pathname + window.location.search, {
      headers: { "X-Live": "1" }, credentials: "same-origin", cache: "no-store"
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      var focused = document.activeElement && region.contains(document.activeElement)
        ? document.activeElement.id : "";
      var open = [];
      region.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
      region.innerHTML = html;
      open.forEach(function (id) {
        var d = document.getElementById(id);
        if (d) { d.open = true; }
      });
      if (focused) {
        var again = document.getElementById(focused);
        if (again) { again.focus({ preventScroll: true }); }
      }
      document.documentElement.dataset.refreshed = String(Date.now());
    }).catch(function () {
      // The daemon restarting or the network gone: try again next period.
    }).then(function () { busy = false; });
  }

  window.setInterval(refresh, PERIOD);
  document.addEventListener("visibilitychange", refresh);
}());
