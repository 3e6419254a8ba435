// Watching together: 2–4 people, each with their shows (the home page's combobox, from home.js);
// the answer of POST /api/recommendations/group is drawn in place, so the group can refine.
"use strict";

(function () {
  const form = document.getElementById("group-form");
  const message = document.getElementById("form-message");
  const submit = document.getElementById("submit");
  const addButton = document.getElementById("add-member");
  const section = document.getElementById("group-results");
  const list = section.querySelector(".cards");
  const summary = document.getElementById("group-summary");
  const combo = window.NextshowCombo;
  const members = Array.from(form.querySelectorAll("fieldset.member"));
  const fields = new Map();
  form.querySelectorAll('input[role="combobox"]').forEach((input) => {
    fields.set(input, combo.setupCombo(input));
  });

  function shown() { return members.filter((m) => !m.hidden); }
  function nameOf(member) {
    return member.querySelector('input[name="name"]').value.trim() || `Person ${member.dataset.member}`;
  }
  function showInputs(member) { return Array.from(member.querySelectorAll('input[role="combobox"]')); }
  function updateAdd() { addButton.hidden = shown().length === members.length; }

  addButton.addEventListener("click", () => {
    const next = members.find((m) => m.hidden);
    if (!next) return;
    next.hidden = false;
    next.querySelector('input[name="name"]').focus();
    updateAdd();
  });
  members.forEach((member) => {
    const remove = member.querySelector(".remove-member");
    if (!remove) return;
    remove.addEventListener("click", () => {
      member.hidden = true;
      member.querySelectorAll("input").forEach((input) => {
        input.value = "";
        delete input.dataset.ref;
      });
      member.querySelectorAll(".field-status").forEach((s) => { s.textContent = ""; });
      updateAdd();
      addButton.focus();
    });
  });

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function card(rec) {
    const li = el("li", "card");
    li.appendChild(el("h3", "", rec.title));
    const meta = el("p", "meta");
    if (rec.start_year) {
      const end = rec.end_year && rec.end_year !== rec.start_year ? `–${rec.end_year}` : "";
      meta.appendChild(el("span", "years", `${rec.start_year}${end}`));
    }
    if (rec.imdb_rating !== null && rec.imdb_rating !== undefined) {
      meta.appendChild(el("span", "rating", `IMDb ${rec.imdb_rating.toFixed(1)}/10`));
    }
    li.appendChild(meta);
    const reasons = el("ul", "member-reasons");
    reasons.setAttribute("aria-label", `Why ${rec.title} suits each of you`);
    rec.members.forEach((m) => {
      const item = el("li", "because", m.reason);
      item.appendChild(el("span", "fit", ` · fits ${Math.round(m.fit * 100)} %`));
      reasons.appendChild(item);
    });
    li.appendChild(reasons);
    if (rec.imdb_url) {
      const p = el("p");
      const a = el("a", "", `${rec.title} on IMDb`);
      a.href = rec.imdb_url; a.rel = "noopener noreferrer"; a.target = "_blank";
      a.appendChild(el("span", "visually-hidden", " (opens in a new tab)"));
      p.appendChild(a);
      li.appendChild(p);
    }
    return li;
  }

  function showProblem(body, status, people) {
    message.textContent = body.detail || `Something went wrong (${status}). Try again.`;
    const member = people.find((m) => nameOf(m) === body.member);
    if (member) showInputs(member)[0].focus();
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.textContent = "";
    const people = shown();
    const empty = people.find((m) => !showInputs(m).some((i) => i.value.trim()));
    if (empty) {
      message.textContent = `Type at least one show ${nameOf(empty)} enjoyed.`;
      showInputs(empty)[0].focus();
      return;
    }
    submit.disabled = true;
    try {
      const filled = people.flatMap((m) => showInputs(m).filter((i) => i.value.trim()));
      await Promise.all(filled.map((i) => (i.dataset.ref ? null : combo.check(fields.get(i)))));
      const open = filled.find((i) => i.dataset.unresolved);
      if (open) {
        message.textContent = "Please choose which show you mean, then ask again.";
        (fields.get(open).status.querySelector("input") || open).focus();
        return;
      }
      const body = {
        members: people.map((m) => {
          const name = m.querySelector('input[name="name"]').value.trim();
          const shows = showInputs(m).filter((i) => i.value.trim())
            .map((i) => i.dataset.ref || i.value.trim());
          return name ? { name, shows } : { shows };
        }),
        strategy: document.getElementById("strategy").value,
      };
      const response = await fetch("/api/recommendations/group", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) { showProblem(answer, response.status, people); return; }
      list.replaceChildren(...answer.recommendations.map(card));
      const names = answer.members.map((m) => m.name);
      summary.textContent = answer.recommendations.length
        ? `${answer.recommendations.length} shows for ${names.join(", ")}.`
        : "No shows this time: try other shows.";
      section.hidden = false;
      section.querySelector("h2").scrollIntoView({ block: "start" });
    } catch (err) {
      message.textContent = "Could not reach the server. Check your connection and try again.";
    } finally {
      submit.disabled = false;
    }
  });
})();
