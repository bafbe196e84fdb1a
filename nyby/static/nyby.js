// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // "Use where I am now": fill latitude and longitude from the browser (and, on the
  // search form, search from there at once).
  document.querySelectorAll("[data-locate]").forEach(function (button) {
    if (!("geolocation" in navigator)) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        document.getElementById("f-latitude").value = position.coords.latitude.toFixed(5);
        document.getElementById("f-longitude").value = position.coords.longitude.toFixed(5);
        if (button.dataset.locate === "search") { button.form.submit(); }
      });
    });
  });

  // The map of rough task areas (Leaflet, served locally). With no tiles reachable it
  // still shows the areas and their links; the list beside it holds the same tasks.
  var map = document.getElementById("map");
  if (map) {
    window.addEventListener("load", function () {
      if (!window.L) { map.hidden = true; return; }
      var areas = JSON.parse(map.dataset.areas);
      var view = window.L.map(map, { scrollWheelZoom: false });
      var tiles = document.documentElement.dataset.tiles;
      if (tiles) { window.L.tileLayer(tiles, { maxZoom: 18 }).addTo(view); }
      var bounds = [];
      areas.forEach(function (area) {
        var circle = window.L.circle(area.at, { radius: 700 }).addTo(view);
        var link = document.createElement("a");
        link.href = area.url;
        link.textContent = area.title;
        circle.bindPopup(link);
        bounds.push(area.at);
      });
      view.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
    });
  }

  // A task's page keeps its status current while the task is under way.
  var task = document.querySelector("[data-refresh=on]");
  if (task && window.fetch) {
    var status = document.getElementById("task-status");
    window.setInterval(function () {
      window.fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("task-status");
          if (fresh && fresh.textContent !== status.textContent) {
            status.innerHTML = fresh.innerHTML;
            status.className = fresh.className;
          }
        })
        .catch(function () {});
    }, 10000);
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
})();
