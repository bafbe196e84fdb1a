// The service worker: the app's look (styles, scripts, the map library) is kept for a
// poor connection; pages and data are always fetched fresh (a task list from a cache
// could offer a task already taken).
const CACHE = "nyby-static-v1";
const STATIC = ["/static/nyby.css", "/static/nyby.js", "/static/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(STATIC)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/static/") && !url.pathname.startsWith("/vendor/")) return;
  // Stale while revalidate: the copy kept here answers at once on a slow connection,
  // and a fresh one is fetched for next time, so a new release reaches every phone.
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(event.request).then((kept) => {
        const fresh = fetch(event.request)
          .then((response) => {
            if (response.ok) cache.put(event.request, response.clone());
            return response;
          })
          .catch(() => kept);
        return kept || fresh;
      })
    )
  );
});

// Web Push: the server sends {title, body} (already in the reader's language).
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "nyby", { body: data.body || "", icon: "/static/icon.svg" })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("/"));
});
