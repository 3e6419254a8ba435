// "Remember my shows on this device": the liked shows in localStorage, no account. The key is
// there only while the box is ticked; home.js starts from it, results.js keeps it current.
"use strict";

(function () {
  const KEY = "nextshow.shows";
  function read() {
    try {
      const shows = JSON.parse(localStorage.getItem(KEY) || "null");
      return Array.isArray(shows) ? shows.filter((s) => s && typeof s.ref === "string") : null;
    } catch (err) {
      return null; // storage blocked or garbled: nothing remembered
    }
  }
  window.NextshowStore = {
    remembering: () => read() !== null,
    load: () => read() || [],
    save(shows) {
      try {
        localStorage.setItem(KEY, JSON.stringify(shows.map((s) => ({ ref: s.ref, label: s.label, addNew: !!s.addNew }))));
      } catch (err) { /* private mode: remembering is a convenience */ }
    },
    forget() {
      try { localStorage.removeItem(KEY); } catch (err) { /* as above */ }
    },
  };
})();
