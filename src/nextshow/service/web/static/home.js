// Home: one combobox (ARIA 1.2 pattern) filled from /api/shows; each show picked becomes a chip
// (up to five). A typed title is sent to /api/shows/match so the server settles what it is.
// The chips live in the history entry (back/forward) and, when asked, in localStorage.
"use strict";

(function () {
  const form = document.getElementById("shows-form");
  const message = document.getElementById("form-message");
  const submit = document.getElementById("submit");

  // How IMDb title types read (as refine.py's TYPE_LABELS on the cards).
  const TYPES = { tvSeries: "series", tvMiniSeries: "mini-series", movie: "film", tvMovie: "TV film" };

  function label(show) {
    return show.start_year ? `${show.title} (${show.start_year})` : show.title;
  }

  function refOf(show) {
    // What identifies the chosen show to the API exactly: its IMDb id, else "Title (Year)".
    return show.imdb_id || label(show);
  }

  async function search(text, limit) {
    const url = `/api/shows?q=${encodeURIComponent(text)}&limit=${limit}`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`search failed (${response.status})`);
    return (await response.json()).data;
  }

  function setStatus(field, html) {
    field.status.innerHTML = "";
    if (html instanceof Node) field.status.appendChild(html);
    else if (html) field.status.textContent = html;
  }

  function resolve(field, show, note) {
    if (field.onPick) {
      field.onPick({ id: show.id, ref: refOf(show), label: label(show) });
      return;
    }
    field.input.value = label(show);
    field.input.dataset.ref = refOf(show);
    delete field.input.dataset.unresolved;
    field.checked = field.input.value;
    const span = document.createElement("span");
    span.className = "ok";
    span.textContent = note || `✓ ${label(show)}`;
    setStatus(field, span);
  }

  // ---------------------------------------------------------------- the combobox
  function setupCombo(input) {
    const list = document.getElementById(input.getAttribute("aria-controls"));
    const field = {
      input, list, status: document.getElementById(input.getAttribute("aria-describedby")),
      hits: [], active: -1, timer: null, seq: 0, checked: null, pending: false,
    };

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      field.active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll('[role="option"]');
      options.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
      field.active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      const hit = field.hits[index];
      if (!hit) return;
      resolve(field, hit);
      close();
    }

    function open(hits) {
      field.hits = hits;
      list.innerHTML = "";
      if (!hits.length) { close(); return; }
      hits.forEach((hit, i) => {
        const li = document.createElement("li");
        li.id = `${list.id}-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.append(hit.title);
        // Years, type and rating tell apart titles that are spelled the same (a remake, a spin-off).
        if (hit.start_year) {
          const yr = document.createElement("span");
          yr.className = "yr";
          const end = hit.end_year && hit.end_year !== hit.start_year ? `–${hit.end_year}` : "";
          yr.textContent = ` (${hit.start_year}${end})`;
          li.appendChild(yr);
        }
        const facts = [TYPES[hit.title_type] || hit.title_type, hit.imdb_rating != null ? `IMDb ${hit.imdb_rating.toFixed(1)}` : null].filter(Boolean);
        if (facts.length) {
          const meta = document.createElement("span");
          meta.className = "hit-meta";
          meta.textContent = ` · ${facts.join(" · ")}`;
          li.appendChild(meta);
        }
        // mousedown, not click: it fires before the input's blur closes the list.
        li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      field.active = -1;
    }

    input.addEventListener("input", () => {
      delete input.dataset.ref;
      delete input.dataset.addNew;
      field.checked = null;
      setStatus(field, "");
      clearTimeout(field.timer);
      const text = input.value.trim();
      if (!text) { close(); return; }
      const seq = ++field.seq;
      field.timer = setTimeout(async () => {
        try {
          const hits = await search(text, 8);
          if (seq === field.seq && document.activeElement === input) open(hits);
        } catch (err) {
          close(); // suggestions are a convenience: typing still works without them
        }
      }, 150);
    });

    input.addEventListener("keydown", (e) => {
      const count = field.hits.length;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (list.hidden && count) open(field.hits);
        if (count) highlight((field.active + 1) % count);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        if (count) highlight(field.active <= 0 ? count - 1 : field.active - 1);
      } else if (e.key === "Enter" && !list.hidden && field.active >= 0) {
        e.preventDefault(); // pick the suggestion; a second Enter submits
        choose(field.active);
      } else if (e.key === "Enter" && field.onPick && input.value.trim()) {
        e.preventDefault(); // with chips, Enter adds the typed show; Enter on an empty field submits
        clearTimeout(field.timer);
        field.seq += 1; // suggestions still on their way are not wanted now
        close();
        check(field);
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      }
    });

    input.addEventListener("blur", () => {
      close();
      const text = input.value.trim();
      if (text && !input.dataset.ref && field.checked !== text) check(field);
    });
    return field;
  }

  // The same combobox serves the "Watching together" page (together.js), which has no home form.
  window.NextshowCombo = { setupCombo, check };
  if (!form) return;
  // ---------------------------------------------------------------- checking a typed title
  function choices(field, text, legendText, shows, allowNew) {
    const fs = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = legendText;
    fs.appendChild(legend);
    const name = `${field.input.id}-choice`;
    const add = (value, text2, onPick) => {
      const id = `${name}-${fs.querySelectorAll("input").length}`;
      const wrap = document.createElement("div");
      wrap.className = "choice";
      const radio = document.createElement("input");
      radio.type = "radio"; radio.name = name; radio.id = id; radio.value = value;
      const lab = document.createElement("label");
      lab.htmlFor = id; lab.textContent = text2;
      radio.addEventListener("change", onPick);
      wrap.append(radio, lab);
      fs.appendChild(wrap);
    };
    shows.forEach((show) => {
      const end = show.end_year && show.end_year !== show.start_year ? `–${show.end_year}` : "";
      const text2 = show.start_year ? `${show.title} (${show.start_year}${end})` : show.title;
      add(String(show.id), text2, () => { resolve(field, show); field.input.focus(); });
    });
    if (allowNew) {
      add("new", `None of these: add “${text}” as a new show`, () => {
        if (field.onPick) {
          field.onPick({ ref: text, label: text, addNew: true });
          return;
        }
        field.input.dataset.ref = text;
        field.input.dataset.addNew = "1";
        delete field.input.dataset.unresolved;
        field.checked = text;
        setStatus(field, `“${text}” is new to us: it will be added when you submit.`);
        field.input.focus();
      });
    }
    field.input.dataset.unresolved = "1";
    setStatus(field, fs);
  }

  async function matchOf(text) {
    // The server decides what a typed title is (GET /api/shows/match runs the same matcher and
    // creation rule as POST /api/predictions); this page only shows the answer.
    const url = `/api/shows/match?q=${encodeURIComponent(text)}`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`match failed (${response.status})`);
    return response.json();
  }

  async function check(field) {
    const text = field.input.value.trim();
    delete field.input.dataset.unresolved;
    if (!text || field.input.dataset.ref) return;
    const m = await matchOf(text);
    if (field.input.value.trim() !== text) return; // typed on meanwhile
    field.checked = text;
    if (m.status === "matched" && m.show) {
      resolve(field, m.show);
    } else if (m.status === "ambiguous") {
      choices(field, text, `Which “${m.candidates[0].title}” do you mean?`, m.candidates, false);
    } else if (m.status === "fuzzy") {
      choices(field, text, `We do not know “${text}”. Did you mean one of these?`, m.candidates, true);
    } else if (m.will_add && field.onPick) {
      field.onPick({ ref: text, label: text, isNew: true });
    } else if (m.will_add) {
      field.input.dataset.ref = text;
      setStatus(field, `“${text}” is new to us: it will be added to the catalogue.`);
    } else {
      field.input.dataset.unresolved = "1";
      setStatus(field, `Nothing in the catalogue matches “${text}”. Type the show's title instead.`);
    }
  }

  // ---------------------------------------------------------------- chips
  const MAX = 5; // the API's limit (MAX_SHOWS)
  const field = setupCombo(form.querySelector('input[role="combobox"]'));
  const chipList = document.getElementById("chosen");
  const chipLabel = document.getElementById("chosen-h");
  const remember = document.getElementById("remember");
  const store = window.NextshowStore;
  let chosen = [];

  function sameShow(a, b) {
    return (a.id != null && a.id === b.id) || a.ref.toLowerCase() === b.ref.toLowerCase();
  }

  function keep() {
    // The history entry holds the chips, so Back from the results finds them again.
    history.replaceState({ ...(history.state || {}), shows: chosen }, "");
    if (store && remember.checked) store.save(chosen);
  }

  function draw() {
    chipList.innerHTML = "";
    chosen.forEach((show, i) => {
      const li = document.createElement("li");
      li.className = "chip";
      li.dataset.ref = show.ref;
      const name = document.createElement("span");
      name.textContent = show.isNew || show.addNew ? `${show.label} (new)` : show.label;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("aria-label", `Remove ${show.label}`);
      remove.textContent = "×";
      remove.addEventListener("click", () => {
        chosen.splice(i, 1);
        changed();
        field.input.focus();
      });
      li.append(name, remove);
      chipList.appendChild(li);
    });
    chipList.hidden = chipLabel.hidden = !chosen.length;
    const full = chosen.length >= MAX;
    field.input.disabled = full;
    field.input.placeholder = full ? "Five shows: remove one to add another" : chosen.length ? "Add another show" : "";
  }

  function changed() {
    draw();
    keep();
  }

  field.onPick = (show) => {
    field.input.value = "";
    setStatus(field, "");
    field.checked = null;
    delete field.input.dataset.unresolved;
    if (!chosen.some((c) => sameShow(c, show)) && chosen.length < MAX) chosen.push(show); // duplicates collapse
    changed();
    message.textContent = "";
    if (!field.input.disabled) field.input.focus();
  };

  // Start from this history entry's chips (Back), else from the remembered shows.
  if (store) {
    remember.parentElement.hidden = false;
    remember.checked = store.remembering();
    remember.addEventListener("change", () => {
      if (remember.checked) store.save(chosen);
      else store.forget();
    });
  }
  const saved = (history.state && history.state.shows) || (store && store.remembering() ? store.load() : []);
  chosen = saved.filter((s) => s && typeof s.ref === "string").slice(0, MAX);
  changed();

  // ---------------------------------------------------------------- submitting
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.textContent = "";
    submit.disabled = true;
    try {
      if (field.input.value.trim()) await check(field); // a typed title not picked yet
      if (field.input.dataset.unresolved) {
        message.textContent = "Please choose which show you mean, then submit again.";
        (field.status.querySelector("input") || field.input).focus();
        return;
      }
      if (!chosen.length) {
        message.textContent = "Type at least one show you enjoyed.";
        field.input.focus();
        return;
      }
      const shows = chosen.map((s) => s.ref);
      // Titles the user chose to add although they resemble known ones ("none of these").
      const add_shows = chosen.filter((s) => s.addNew).map((s) => s.ref);
      // Prefer: wait=2 (RFC 7240): an answer ready within 2 s comes back with this request
      // (200) and the results page shows it at once; otherwise (202) the waiting page polls.
      const response = await fetch("/api/predictions", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", Prefer: "wait=2" },
        body: JSON.stringify({ shows, add_shows }),
      });
      const body = await response.json();
      if (response.status === 200 || response.status === 202) {
        // A ?timeout= on this page (seconds) carries over to the waiting page.
        const timeout = new URLSearchParams(window.location.search).get("timeout");
        const query = timeout ? `?timeout=${encodeURIComponent(timeout)}` : "";
        window.location.assign(`/results/${body.prediction_id}${query}`);
        return;
      }
      message.textContent = body.detail || `Something went wrong (${response.status}). Try again.`;
    } catch (err) {
      message.textContent = "Could not reach the server. Check your connection and try again.";
    } finally {
      submit.disabled = false;
    }
  });
})();
