// Explore: a show in the centre, its nearest neighbours around it and a few of theirs further
// out. Selecting a show (click, Enter or Space) re-centres the graph on it.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const root = document.getElementById("explore");
  const svg = document.getElementById("graph");
  const title = document.getElementById("graph-title");
  const detail = document.getElementById("graph-detail");
  const list = document.getElementById("neighbour-list");
  const message = document.getElementById("graph-message");

  function el(name, attrs) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    return node;
  }

  function named(node) {
    return node.years ? `${node.title} (${node.years})` : node.title;
  }

  function short(text, max) {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  function layout(graph) {
    const pos = new Map();
    const ring1 = graph.nodes.filter((n) => n.ring === 1);
    pos.set(graph.centre, { x: 0, y: 0, angle: 0 });
    ring1.forEach((n, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(ring1.length, 1);
      pos.set(n.id, { x: 190 * Math.cos(angle), y: 170 * Math.sin(angle), angle });
    });
    const children = new Map();
    graph.nodes.filter((n) => n.ring === 2).forEach((n) => {
      const link = graph.links.find(
        (l) => (l.source === n.id && pos.has(l.target) && l.target !== graph.centre) ||
          (l.target === n.id && pos.has(l.source) && l.source !== graph.centre)
      );
      const parent = link ? (link.source === n.id ? link.target : link.source) : graph.centre;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(n);
    });
    children.forEach((kids, parent) => {
      const base = pos.get(parent).angle;
      kids.forEach((n, k) => {
        const angle = base + (k - (kids.length - 1) / 2) * 0.24;
        pos.set(n.id, { x: 360 * Math.cos(angle), y: 300 * Math.sin(angle), angle });
      });
    });
    return pos;
  }

  function draw(graph) {
    svg.innerHTML = "";
    list.innerHTML = "";
    // On a phone the graph zooms in on the centre and its neighbours, whose labels stay
    // legible; the outer ring is left out (the list below names every neighbour).
    const narrow = window.matchMedia("(max-width: 480px)").matches;
    svg.setAttribute("viewBox", narrow ? "-320 -235 640 470" : "-500 -360 1000 720");
    if (narrow) {
      const near = new Set(graph.nodes.filter((n) => n.ring < 2).map((n) => n.id));
      graph = {
        ...graph,
        nodes: graph.nodes.filter((n) => near.has(n.id)),
        links: graph.links.filter((l) => near.has(l.source) && near.has(l.target)),
      };
    }
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const centre = byId.get(graph.centre);
    title.textContent = named(centre);
    detail.textContent = `${centre.likes} like${centre.likes === 1 ? "" : "s"}` +
      (centre.genres.length ? ` · ${centre.genres.join(", ")}` : "");
    if (centre.imdb_url) {
      const a = document.createElement("a");
      a.href = centre.imdb_url; a.rel = "noopener noreferrer"; a.target = "_blank";
      a.textContent = `${centre.title} on IMDb`;
      detail.append(" · ", a);
    }
    const pos = layout(graph);
    const lines = el("g", { "aria-hidden": "true" });
    graph.links.forEach((l) => {
      const a = pos.get(l.source), b = pos.get(l.target);
      if (!a || !b) return;
      lines.appendChild(el("line", {
        x1: a.x, y1: a.y, x2: b.x, y2: b.y, "stroke-width": 1 + 5 * l.similarity,
      }));
    });
    svg.appendChild(lines);
    // Farthest first so the centre is drawn on top.
    [...graph.nodes].sort((a, b) => b.ring - a.ring).forEach((n) => {
      const p = pos.get(n.id);
      if (!p) return;
      const g = el("g", { class: `node ring-${n.ring}`, transform: `translate(${p.x},${p.y})`, "data-id": n.id });
      const r = n.ring === 0 ? 22 : n.ring === 1 ? 15 : 10;
      // An invisible disc around each selectable show: a tap target of 44 px or more on a phone.
      if (n.ring !== 0) g.appendChild(el("circle", { r: narrow ? 42 : 26, class: "hit" }));
      g.appendChild(el("circle", { r }));
      const label = el("text", { y: r + 22, "text-anchor": "middle" });
      label.textContent = short(n.title, n.ring === 0 ? 30 : narrow ? 16 : 20);
      g.appendChild(label);
      const tip = el("title");
      tip.textContent = named(n);
      g.appendChild(tip);
      if (n.ring !== 0) {
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
        g.setAttribute("aria-label", `Centre on ${named(n)}`);
        g.addEventListener("click", () => go(n.id));
        g.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(n.id, true); }
        });
      } else {
        g.setAttribute("aria-hidden", "true");
      }
      svg.appendChild(g);
    });
    const similarity = new Map();
    graph.links.forEach((l) => {
      if (l.source === graph.centre) similarity.set(l.target, l.similarity);
      if (l.target === graph.centre) similarity.set(l.source, l.similarity);
    });
    graph.nodes.filter((n) => n.ring === 1).forEach((n) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = named(n);
      button.dataset.id = n.id;
      button.addEventListener("click", () => go(n.id, true));
      li.appendChild(button);
      const sim = similarity.get(n.id);
      if (sim !== undefined) li.append(` similarity ${sim.toFixed(2)}`);
      list.appendChild(li);
    });
    if (!list.children.length) {
      const li = document.createElement("li");
      li.textContent = "No neighbours yet: nobody who liked this show liked another one.";
      list.appendChild(li);
    }
    root.dataset.centre = String(graph.centre);
  }

  async function load(id, push, focusAfter) {
    message.textContent = "";
    root.setAttribute("aria-busy", "true");
    try {
      const url = id ? `/explore/graph?show=${id}` : "/explore/graph";
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      const graph = await response.json();
      if (!response.ok) {
        // Replace "Loading…": the heading says what happened, the alert says why.
        title.textContent = response.status === 404 ? "Show not found" : "Cannot show this";
        message.textContent = graph.detail || "This show cannot be shown.";
        return;
      }
      if (graph.centre === null) {
        title.textContent = "Nothing to explore yet";
        message.textContent = "No likes have been recorded, so no show has neighbours yet.";
        return;
      }
      draw(graph);
      if (push) history.pushState({ show: graph.centre }, "", `/explore?show=${graph.centre}`);
      if (focusAfter) title.setAttribute("tabindex", "-1"), title.focus();
    } catch (err) {
      title.textContent = "Cannot show this";
      message.textContent = "Could not load the graph. Try again shortly.";
    } finally {
      root.setAttribute("aria-busy", "false");
    }
  }

  function go(id, focusAfter) {
    load(id, true, focusAfter);
  }

  window.addEventListener("popstate", (e) => load(e.state && e.state.show, false, false));
  load(root.dataset.centre ? Number(root.dataset.centre) : null, false, false);
})();
