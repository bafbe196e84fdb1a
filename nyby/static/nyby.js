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

  // Need-versus-provision maps (provision/_map.html): the areas as coloured H3 cells.
  // Without Leaflet the map stays hidden; the legend and the table hold the same figures.
  document.querySelectorAll("[data-provision]").forEach(function (element) {
    window.addEventListener("load", function () {
      if (!window.L) { return; }
      var data = JSON.parse(element.dataset.provision);
      if (!data.features.length) { return; }
      var colours = JSON.parse(element.dataset.colours);
      var words = JSON.parse(element.dataset.words);
      element.hidden = false;
      var view = window.L.map(element, { scrollWheelZoom: false });
      var tiles = document.documentElement.dataset.tiles;
      if (tiles) { window.L.tileLayer(tiles, { maxZoom: 18 }).addTo(view); }
      var layer = window.L.geoJSON(data, {
        style: function (feature) {
          var colour = colours[feature.properties.state];
          return { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.45 };
        },
        onEachFeature: function (feature, shape) {
          var p = feature.properties;
          shape.bindPopup(p.posted + " " + words.posted + ", " + p.unmet + " " + words.unmet +
            ", " + p.people + " " + words.people);
        }
      }).addTo(view);
      view.fitBounds(layer.getBounds(), { padding: [10, 10], maxZoom: 13 });
    });
  });

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

  // The exports page follows its exports while any is being written: the list is
  // fetched again and swapped in, and the status line (a polite live region) says when
  // one is ready or has failed, rather than reading out every step of the progress.
  var exportsList = document.querySelector("[data-exports-refresh]");
  if (exportsList && window.fetch) {
    var exportsNews = document.getElementById("exports-news");
    var exportsTimer = null;
    var followExports = function () {
      window.fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("exports-list");
          if (!fresh) { return; }
          fresh.querySelectorAll("[data-status]").forEach(function (card) {
            var before = document.getElementById(card.id);
            if (before && before.dataset.status !== card.dataset.status && card.dataset.announce) {
              exportsNews.textContent = card.dataset.announce;
            }
          });
          exportsList.innerHTML = fresh.innerHTML;
          exportsList.dataset.exportsRefresh = fresh.dataset.exportsRefresh;
          if (fresh.dataset.exportsRefresh !== "on") { window.clearInterval(exportsTimer); }
        })
        .catch(function () {});
    };
    if (exportsList.dataset.exportsRefresh === "on") {
      exportsTimer = window.setInterval(followExports, 2000);
    }
  }

  // A half-written form is kept in this browser until it has been sent and accepted:
  // an expired session, a lost connection or a closed tab loses nothing.
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }
  if (store) {
    document.querySelectorAll("[data-draft-done]").forEach(function (notice) {
      Object.keys(store).forEach(function (key) {
        if (key.indexOf("draft:" + notice.dataset.draftDone) === 0) { store.removeItem(key); }
      });
    });
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = "draft:" + form.dataset.draft;
      var fields = Array.prototype.filter.call(form.elements, function (field) {
        return field.name && field.name !== "csrf_token" && field.type !== "hidden" && field.type !== "submit";
      });
      var saved = store.getItem(key);
      // A page showing the server's errors already holds what was typed.
      if (saved && !form.hasAttribute("data-draft-shown")) {
        var values = JSON.parse(saved);
        fields.forEach(function (field) {
          if (!(field.name in values)) { return; }
          if (field.type === "checkbox") { field.checked = values[field.name]; }
          else { field.value = values[field.name]; }
        });
      }
      form.addEventListener("input", function () {
        var values = {};
        fields.forEach(function (field) {
          values[field.name] = field.type === "checkbox" ? field.checked : field.value;
        });
        store.setItem(key, JSON.stringify(values));
      });
    });
  }

  // "Copy the link": the link is in a read-only box anyone can select; this saves a step.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!(navigator.clipboard && window.isSecureContext)) { return; }
    var box = document.getElementById(button.dataset.copy);
    var done = document.querySelector("[data-copied='" + button.dataset.copy + "']");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(box.value).then(function () {
        if (done) { done.hidden = false; }
      }).catch(function () { box.select(); });
    });
  });

  // An offer's time left ticks down; the live region speaks once, when time is up
  // (a screen reader is not told every minute).
  var countdowns = document.querySelectorAll(".countdown[data-expires]");
  function tick() {
    countdowns.forEach(function (countdown) {
      if (countdown.dataset.done) { return; }
      var left = Date.parse(countdown.dataset.expires) - Date.now();
      var shown = countdown.querySelector("[data-time-left]");
      if (left > 0) {
        shown.textContent = countdown.dataset.left.replace("{n}", String(Math.ceil(left / 60000)));
        return;
      }
      countdown.dataset.done = "1";
      shown.textContent = countdown.dataset.over;
      var note = countdown.parentNode.querySelector("[data-expired-note]");
      if (note) { note.textContent = countdown.dataset.over; }
    });
  }
  if (countdowns.length) {
    tick();
    window.setInterval(tick, 15000);
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }

  // "Turn on notifications on this device": shown only where Web Push works.
  var push = document.querySelector("[data-push-setup]");
  if (push && "serviceWorker" in navigator && "PushManager" in window) {
    var pushStatus = push.querySelector("[data-push-status]");
    push.hidden = false;
    push.querySelector("[data-push-subscribe]").addEventListener("click", function () {
      var raw = atob(push.dataset.key.replace(/-/g, "+").replace(/_/g, "/"));
      var key = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) { key[i] = raw.charCodeAt(i); }
      navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      }).then(function (subscription) {
        return fetch(push.dataset.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": push.dataset.csrf },
          body: JSON.stringify(subscription.toJSON())
        });
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        pushStatus.textContent = pushStatus.dataset.done;
      }).catch(function () {
        pushStatus.textContent = pushStatus.dataset.failed;
      });
    });
  }
})();
