// Filters and sorts the host table (and shows only the chosen hosts in the timeline and the
// details). Nothing is fetched: the page is whole without this script.
(function () {
  "use strict";
  var table = document.getElementById("hosts");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var status = document.getElementById("status-filter");
  var name = document.getElementById("host-filter");
  var shown = document.getElementById("shown");
  function filter() {
    var s = status.value, q = name.value.trim().toLowerCase(), n = 0;
    document.querySelectorAll("[data-host]").forEach(function (el) {
      var ok = (s === "" || el.getAttribute("data-status") === s) &&
        (q === "" || el.getAttribute("data-host").toLowerCase().indexOf(q) >= 0);
      el.classList.toggle("gone", !ok);
      if (ok && el.tagName === "TR") { n++; }
    });
    shown.textContent = n + " of " + rows.length + " hosts shown";
  }
  status.addEventListener("change", filter);
  name.addEventListener("input", filter);
  var numeric = {rank: true, batch: true, changes: true, ms: true};
  table.querySelectorAll("th[data-key]").forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      table.querySelectorAll("th[data-key]").forEach(function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key);
        var c = numeric[key] ? Number(x) - Number(y) : x.localeCompare(y);
        if (c === 0) { c = Number(a.getAttribute("data-rank")) - Number(b.getAttribute("data-rank")); }
        return c * dir;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    });
  });
  filter();
}());
