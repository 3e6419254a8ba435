// Home: up to five shows, each a combobox (ARIA 1.2 pattern) filled from /api/shows; before
// submitting, every typed title is sent to /api/shows/match so ambiguous ones can be settled.
"use strict";

(function () {
  const form = document.getElementById("shows-form");
  const message = document.getElementById("form-message");
  const submit = document.getElementById("submit");

  const TYPES = { tvSeries: "TV series", tvMiniSeries: "mini-series" };

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
        // Type and years tell apart titles that are spelled the same (a remake, a spin-off).
        const kind = TYPES[hit.title_type] || "";
        if (hit.start_year || kind) {
          const yr = document.createElement("span");
          yr.className = "yr";
          const end = hit.end_year && hit.end_year !== hit.start_year ? `–${hit.end_year}` : "";
          const years = hit.start_year ? `${hit.start_year}${end}` : "";
          yr.textContent = ` (${[kind, years].filter(Boolean).join(", ")})`;
          li.appendChild(yr);
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
  const fields = Array.from(form.querySelectorAll('input[role="combobox"]')).map(setupCombo);

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
    } else if (m.will_add) {
      field.input.dataset.ref = text;
      setStatus(field, `“${text}” is new to us: it will be added to the catalogue.`);
    } else {
      field.input.dataset.unresolved = "1";
      setStatus(field, `Nothing in the catalogue matches “${text}”. Type the show's title instead.`);
    }
  }

  // ---------------------------------------------------------------- submitting
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.textContent = "";
    const filled = fields.filter((f) => f.input.value.trim());
    if (!filled.length) {
      message.textContent = "Type at least one show you enjoyed.";
      fields[0].input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await Promise.all(filled.map((f) => (f.input.dataset.ref ? null : check(f))));
      const open = filled.find((f) => f.input.dataset.unresolved);
      if (open) {
        message.textContent = "Please choose which show you mean, then submit again.";
        const first = open.status.querySelector("input") || open.input;
        first.focus();
        return;
      }
      // The same show picked twice counts once.
      const shows = [...new Set(filled.map((f) => f.input.dataset.ref || f.input.value.trim()))];
      // Titles the user chose to add although they resemble known ones ("none of these").
      const add_shows = filled.filter((f) => f.input.dataset.addNew).map((f) => f.input.dataset.ref);
      const response = await fetch("/api/predictions", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ shows, add_shows }),
      });
      const body = await response.json();
      if (response.status === 202) {
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
