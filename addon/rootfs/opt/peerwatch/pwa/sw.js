// Service worker: keeps the app shell for offline start. The cache name carries the build's
// version (set by build.mjs), so a new build replaces the old shell. API and signaling requests
// are never touched.

const VERSION = "0.1.0-5340282ae5";
const CACHE = `peerwatch-shell-${VERSION}`;
const SHELL = ["./", "index.html", "app.js", "app.css", "manifest.webmanifest", "icon.svg", "icon-192.png", "icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((p) => new Request(p, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("peerwatch-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

const scope = new URL(self.registration.scope);
const shellUrls = new Set(SHELL.map((p) => new URL(p, scope).href));

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.search = "";
  if (request.mode === "navigate") {
    // Network first so a new build shows at once; the cached shell when offline.
    event.respondWith(fetch(request).catch(() => caches.match(new URL("index.html", scope).href)));
  } else if (shellUrls.has(url.href)) {
    event.respondWith(caches.match(url.href).then((hit) => hit || fetch(request)));
  }
});
