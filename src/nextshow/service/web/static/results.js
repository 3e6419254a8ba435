// Results: refine in place. "More like this", "Not for me", removing a chip and "Add a show" are
// links and GET forms to /recommend (they work without this script); here they fetch that page
// and swap its #refine part in, with the address in the history so back/forward step through.
// Shows turned down stay out of later lists for this visit (sessionStorage); with "remember my
// shows" on (home page), the liked shows are kept for the next visit (localStorage).
"use strict";

(function () {
  const EXCLUDED = "nextshow.excluded";
  const MAX_EXCLUDED = 50; // the server's limit on ?exclude=
  const store = window.NextshowStore;
  const heading = document.getElementById("results-h");
  const status = document.getElementById("refine-status");
  let region = document.getElementById("refine");
  let busy = null;

  function excluded() {
    try {
      return JSON.parse(sessionStorage.getItem(EXCLUDED) || "[]").filter(Number.isInteger);
    } catch (err) {
      return [];
    }
  }

  function exclude(id) {
    const ids = [...excluded().filter((x) => x !== id), id].slice(-MAX_EXCLUDED);
    sessionStorage.setItem(EXCLUDED, JSON.stringify(ids));
  }

  function withExcluded(href) {
    // The link carries this list's exclusions; add the ones from earlier lists of this visit.
    const url = new URL(href, window.location.origin);
    if (url.pathname !== "/recommend") return url;
    const have = new Set(url.searchParams.getAll("exclude").map(Number));
    const add = excluded().filter((id) => !have.has(id));
    const room = MAX_EXCLUDED - have.size;
    add.slice(Math.max(0, add.length - room)).forEach((id) => url.searchParams.append("exclude", id));
    return url;
  }

  function likedShows() {
    return Array.from(region.querySelectorAll("#liked .chip")).map((li) => ({
      ref: li.dataset.ref, label: li.dataset.label,
    }));
  }

  function setup() {
    const field = document.getElementById("share-url");
    const button = document.getElementById("copy-link");
    const copied = document.getElementById("copy-status");
    field.value = window.location.href;
    button.addEventListener("click", async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
        copied.textContent = "Link copied.";
      } catch (err) {
        copied.textContent = "Select the address above and copy it.";
      }
    });
    if (store && store.remembering()) store.save(likedShows());
  }

  async function load(url, how) {
    if (busy) busy.abort();
    busy = new AbortController();
    region.setAttribute("aria-busy", "true");
    status.textContent = "Updating the list…";
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, signal: busy.signal });
      const html = await response.text();
      const doc = new DOMParser().parseFromString(html, "text/html");
      const fresh = doc.getElementById("refine");
      if (!fresh) {
        window.location.assign(url); // an error page: show it as a page
        return;
      }
      if (how === "push") history.pushState({ refine: true }, "", url);
      else if (how === "replace") history.replaceState({ refine: true }, "", url);
      region.replaceWith(fresh);
      region = fresh;
      setup();
      const count = region.querySelectorAll(".cards > li").length;
      status.textContent = `List updated: ${count} shows.`;
      heading.focus();
    } catch (err) {
      if (err.name !== "AbortError") window.location.assign(url);
    } finally {
      region.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-refine]");
    if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    if (link.dataset.drop) exclude(Number(link.dataset.drop));
    load(withExcluded(link.href).href, "push");
  });

  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-refine-form]");
    if (!form) return;
    e.preventDefault();
    const url = new URL(form.action, window.location.origin);
    new FormData(form).forEach((value, key) => {
      if (String(value).trim()) url.searchParams.append(key, value);
    });
    load(withExcluded(url.href).href, "push");
  });

  window.addEventListener("popstate", () => {
    // Back/forward between refinements of this page: show that address's list again.
    load(window.location.href, null);
  });

  setup();
  // A show turned down earlier in this visit is on this list: make it again without it.
  const ids = new Set(excluded());
  const self = region.dataset.self;
  if (self && Array.from(region.querySelectorAll(".cards > li")).some((li) => ids.has(Number(li.dataset.id)))) {
    load(withExcluded(self).href, "replace");
  }
})();
