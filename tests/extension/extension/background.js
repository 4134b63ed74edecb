// The extension's service worker: nothing to do in the background; the app page does the work.
// (Its presence also lets tests learn the extension id.)
self.addEventListener("install", () => self.skipWaiting());
