/* tipgraph graph explorer: draws /graph.json with Cytoscape.js and the fcose layout.
 *
 * The server does the filtering (the same filters as /graph.json's query parameters); this page
 * keeps its state in the address bar, so a view can be bookmarked and shared. No inline script,
 * nothing fetched from another host.
 */
(function () {
  "use strict";

  const root = document.getElementById("gx");
  const $ = (id) => document.getElementById(id);
  const cyBox = $("cy");
  const jsonUrl = root.dataset.json;
  const defaults = JSON.parse(root.dataset.defaults || "{}");
  const MULTI = ["region", "kind", "relation", "theme"];
  const DATE_LABELS = {
    establishmentDate: "Established", adoptionDate: "Adopted", signatureDate: "Signed",
    entryIntoForceDate: "Entered into force", launchDate: "Launched", publicationDate: "Published",
    proposalDate: "Proposed", plannedDate: "Planned for", appointmentDate: "Appointed",
    eventDate: "Held", startDate: "From", endDate: "To", periodStart: "Period from",
    periodEnd: "Period to",
  };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  let meta = null;           // facets of the whole graph (first response)
  let kinds = {};            // kind name -> {label, color, shape, group}
  let families = {};         // relation family -> {color, line, label}
  let index = [];            // every node, for search
  let cy = null;
  let state = readState();
  let requestSeq = 0;
  let playTimer = null;
  let legendOpen = window.innerWidth > 1000;

  // ------------------------------------------------------------------ state <-> address bar
  function readState() {
    const params = new URLSearchParams(window.location.search);
    const source = [...params.keys()].some((k) => k !== "focus") ? params
      : new URLSearchParams(defaults);
    const s = { group: source.get("group") !== "0" };
    for (const name of MULTI) {
      s[name] = new Set((source.get(name) || "").split(",").filter(Boolean));
    }
    s.year = source.get("year") ? parseInt(source.get("year"), 10) : null;
    s.focus = params.get("focus") || null;
    return s;
  }

  function stateParams(extra) {
    const params = new URLSearchParams();
    for (const name of MULTI) {
      if (state[name].size) params.set(name, [...state[name]].sort().join(","));
    }
    if (state.year !== null) params.set("year", String(state.year));
    if (!state.group) params.set("group", "0");
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    return params;
  }

  function writeState() {
    const query = stateParams().toString();
    history.replaceState(null, "", query ? "?" + query : window.location.pathname);
    for (const fmt of ["graphml", "gexf", "dot", "svg"]) {
      $("gx-dl-" + fmt).href = "/graph." + fmt + (query ? "?" + query : "");
    }
    $("gx-dl-json").href = jsonUrl + (query ? "?" + query : "");
  }

  // ------------------------------------------------------------------ data
  async function fetchGraph(extra) {
    const params = stateParams(extra);
    const url = jsonUrl + "?" + params.toString();
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return { url, body };
  }

  function decorate(elements) {
    const maxDegree = Math.max(1, ...elements.nodes.map((n) => n.data.degree || 0));
    for (const node of elements.nodes) {
      const d = node.data;
      const kind = kinds[d.kind] || { color: "#9aa3b5", shape: "ellipse" };
      d.color = kind.color;
      d.shape = kind.shape;
      const grow = Math.sqrt((d.degree || 0) / maxDegree);
      d.display = d.short.length > 40 ? d.short.slice(0, 38).replace(/\s+\S*$/, "") + "…" : d.short;
      if (d.group === "mechanisms") {
        d.w = Math.max(54, Math.min(220, d.short.length * 7.6 + 22));
        d.h = 30 + Math.round(12 * grow);
      } else {
        d.w = d.h = Math.round(24 + 30 * grow);
      }
      node.classes = [d.group, d.past ? "past" : ""].join(" ").trim();
    }
    for (const edge of elements.edges) {
      const family = families[edge.data.family] || families.other;
      edge.data.color = family.color;
      edge.data.line = family.line;
      edge.classes = [edge.data.contained ? "contained" : "", edge.data.symmetric ? "symmetric" : ""]
        .join(" ").trim();
    }
    return elements;
  }

  // ------------------------------------------------------------------ drawing
  function style() {
    return [
      { selector: "node", style: {
        "background-color": "data(color)", shape: "data(shape)", width: "data(w)",
        height: "data(h)", label: "data(display)", "font-size": 12, "font-family":
        "system-ui, -apple-system, Segoe UI, sans-serif", color: "#1d2433", "text-valign": "bottom",
        "text-margin-y": 4, "text-wrap": "wrap", "text-max-width": 120,
        "text-outline-color": "#ffffff", "text-outline-width": 2, "text-outline-opacity": 0.9,
        "border-width": 1.5, "border-color": "#ffffff", "min-zoomed-font-size": 7,
        "transition-property": "opacity", "transition-duration": 150,
      } },
      { selector: "node.mechanisms", style: {
        "text-valign": "center", "text-margin-y": 0, color: "#ffffff", "font-weight": 600,
        "font-size": 12, "text-outline-width": 0, "text-max-width": 200,
      } },
      { selector: "node.instruments", style: { "font-size": 10, "text-max-width": 150 } },
      { selector: "node:parent", style: {
        shape: "round-rectangle", "background-color": "data(color)", "background-opacity": 0.07,
        "border-color": "data(color)", "border-width": 1.5, "border-opacity": 0.55,
        "text-valign": "top", "text-halign": "center", "text-margin-y": -4, color: "data(color)",
        "font-weight": 700, "font-size": 15, "text-outline-width": 2,
        "text-outline-color": "#ffffff", padding: 16, "corner-radius": 10,
      } },
      { selector: "node.past", style: { opacity: 0.5, "border-style": "dashed",
        "border-color": "#5b6475", "border-width": 1.5 } },
      { selector: "edge", style: {
        width: 1.4, "line-color": "data(color)", "target-arrow-color": "data(color)",
        "target-arrow-shape": "triangle", "arrow-scale": 0.8, "curve-style": "bezier",
        "line-style": "data(line)", opacity: 0.75, "font-size": 9, color: "#5b6475",
        "text-rotation": "autorotate", "text-background-color": "#ffffff",
        "text-background-opacity": 0.85, "text-background-padding": 1,
        "min-zoomed-font-size": 8,
      } },
      { selector: "edge.symmetric", style: { "target-arrow-shape": "none" } },
      { selector: "edge.contained", style: { display: "none" } },
      { selector: "edge.labelled, edge.hover, edge.near", style: { label: "data(label)" } },
      { selector: ".faded", style: { opacity: 0.12 } },
      { selector: "edge.near", style: { width: 2.4, opacity: 1 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#ffb300" } },
      { selector: "node.match", style: { "border-width": 4, "border-color": "#ffb300" } },
    ];
  }

  function layoutOptions(randomize) {
    return {
      name: "fcose", quality: "proof", randomize, animate: !randomize, animationDuration: 450,
      fit: true, padding: 30, nodeDimensionsIncludeLabels: true, packComponents: true,
      nodeRepulsion: () => 6000, idealEdgeLength: (e) => (e.hasClass("contained") ? 40 : 75),
      edgeElasticity: () => 0.4, nestingFactor: 0.4, gravity: 0.5, gravityRangeCompound: 1.5,
      gravityCompound: 1.5, numIter: 2500, tile: true, tilingPaddingVertical: 12,
      tilingPaddingHorizontal: 12, uniformNodeDimensions: false,
    };
  }

  function runLayout(randomize) {
    setStatus("Laying out…");
    cyBox.dataset.status = "layout";
    return new Promise((resolve) => {
      const elements = cy.elements(":visible");
      if (elements.length === 0) { resolve(); return; }
      const layout = elements.layout(layoutOptions(randomize));
      layout.one("layoutstop", () => resolve());
      layout.run();
    });
  }

  function draw(elements, keepPositions) {
    const old = {};
    if (keepPositions) cy.nodes().forEach((n) => { old[n.id()] = { ...n.position() }; });
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements.nodes);
      cy.add(elements.edges);
    });
    let known = 0;
    cy.nodes().forEach((n) => {
      if (old[n.id()]) { n.position(old[n.id()]); known += 1; }
    });
    // new nodes start next to a neighbour that already has a place
    cy.nodes().forEach((n) => {
      if (old[n.id()]) return;
      const placed = n.neighborhood("node").filter((m) => old[m.id()]);
      if (placed.length) {
        const p = placed[0].position();
        n.position({ x: p.x + (Math.random() - 0.5) * 80, y: p.y + (Math.random() - 0.5) * 80 });
      }
    });
    applyEdgeLabels();
    return runLayout(known < cy.nodes().length * 0.5);
  }

  function applyEdgeLabels() {
    cy.edges().toggleClass("labelled", $("gx-edge-labels").checked);
  }

  // ------------------------------------------------------------------ load & refresh
  async function refresh(options) {
    const seq = ++requestSeq;
    writeState();
    cyBox.dataset.status = "loading";
    setStatus("Loading…");
    let result;
    try {
      result = await fetchGraph(meta ? {} : { index: "1" });
    } catch (error) {
      if (seq === requestSeq) { setStatus("Could not load the graph: " + error.message); }
      cyBox.dataset.status = "error";
      return;
    }
    if (seq !== requestSeq) return;  // a newer request is on its way
    if (!meta) initFacets(result.body.meta);
    cyBox.dataset.url = result.url;
    await draw(decorate(result.body), options && options.keepPositions);
    if (seq !== requestSeq) return;
    afterDraw(result.body.meta);
    if (state.focus) {
      const focus = cy.getElementById(state.focus);
      state.focus = null;
      if (focus.length) select(focus);
    }
  }

  function afterDraw(viewMeta) {
    const counts = viewMeta.counts;
    setStatus(`${counts.nodes} of ${counts.allNodes} nodes · ${counts.edges} links`);
    cyBox.dataset.nodeCount = String(cy.nodes().length);
    cyBox.dataset.status = "ready";
    $("gx-empty").hidden = cy.nodes().length > 0;
    renderLegend();
  }

  function setStatus(text) { $("gx-status").textContent = text; }

  // ------------------------------------------------------------------ facets (sidebar)
  function initFacets(m) {
    meta = m;
    index = m.index || [];
    for (const k of m.kinds) kinds[k.name] = k;
    families = m.families;
    const groupLabels = { mechanisms: "Mechanisms", bodies: "Bodies and posts",
      partners: "Partners", states: "States", instruments: "Instruments",
      activities: "Initiatives and events" };
    // kinds: group headers with their kinds; a group name in state.kind means all its kinds
    expandKindGroups();
    const kindBox = $("gx-kinds");
    kindBox.textContent = "";
    for (const group of Object.keys(groupLabels)) {
      const members = m.kinds.filter((k) => k.group === group && k.count > 0);
      if (!members.length) continue;
      const head = document.createElement("div");
      head.className = "gx-group-head";
      head.textContent = groupLabels[group];
      kindBox.appendChild(head);
      for (const k of members) {
        kindBox.appendChild(option("kind", k.name, k.label, k.count, swatch(k.shape, k.color)));
      }
    }
    fillOptions("gx-regions", "region", m.regions.map((r) => [r.id, r.label, r.count]));
    fillOptions("gx-themes", "theme", m.themes.map((t) => [t.id, t.label, t.count]));
    const relBox = $("gx-relations");
    relBox.textContent = "";
    for (const r of m.relations) {
      const fam = m.families[r.family] || m.families.other;
      relBox.appendChild(option("relation", r.name, r.label, r.count, lineSwatch(fam)));
    }
    if (m.years) {
      const slider = $("gx-year");
      slider.min = String(m.years[0]);
      slider.max = String(m.years[1]);
      slider.value = String(state.year !== null ? state.year : m.years[1]);
    }
    syncControls();
  }

  function expandKindGroups() {
    const expanded = new Set();
    for (const value of state.kind) {
      const members = meta.kinds.filter((k) => k.group === value).map((k) => k.name);
      (members.length ? members : [value]).forEach((n) => expanded.add(n));
    }
    state.kind = expanded;
  }

  function option(facet, value, label, count, mark) {
    const row = document.createElement("label");
    row.className = "gx-option";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.dataset.facet = facet;
    box.value = value;
    row.appendChild(box);
    if (mark) row.appendChild(mark);
    const text = document.createElement("span");
    text.className = "gx-option-label";
    text.textContent = label;
    row.appendChild(text);
    const n = document.createElement("span");
    n.className = "gx-count";
    n.textContent = String(count);
    row.appendChild(n);
    return row;
  }

  function fillOptions(id, facet, rows) {
    const box = $(id);
    box.textContent = "";
    if (!rows.length) {
      box.appendChild(el("p", { class: "gx-none" }, "None in the data yet."));
      return;
    }
    for (const [value, label, count] of rows) box.appendChild(option(facet, value, label, count));
  }

  function syncControls() {
    document.querySelectorAll("input[data-facet]").forEach((box) => {
      box.checked = state[box.dataset.facet].has(box.value);
    });
    const instrumentKinds = meta.kinds.filter((k) => k.group === "instruments" && k.count > 0);
    $("gx-instruments").checked = instrumentKinds.length > 0
      && instrumentKinds.every((k) => state.kind.has(k.name));
    $("gx-group").checked = state.group;
    const on = state.year !== null;
    $("gx-year-on").checked = on;
    $("gx-year").disabled = !on;
    $("gx-play").disabled = !on;
    if (on) $("gx-year").value = String(state.year);
    $("gx-year-label").textContent = on ? String(state.year) : "all years";
  }

  const SVG = "http://www.w3.org/2000/svg";
  function swatch(shape, color) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "gx-swatch");
    let el;
    const poly = (points) => { el = document.createElementNS(SVG, "polygon"); el.setAttribute("points", points); };
    if (shape === "ellipse") {
      el = document.createElementNS(SVG, "circle");
      el.setAttribute("cx", "8"); el.setAttribute("cy", "8"); el.setAttribute("r", "6.5");
    } else if (shape === "diamond") poly("8,1 15,8 8,15 1,8");
    else if (shape === "round-triangle" || shape === "triangle") poly("8,1.5 15,14.5 1,14.5");
    else if (shape === "star") poly("8,1 10,6 15.5,6.2 11.2,9.6 12.8,15 8,11.8 3.2,15 4.8,9.6 0.5,6.2 6,6");
    else if (shape === "round-pentagon") poly("8,1 15,6.2 12.3,15 3.7,15 1,6.2");
    else if (shape === "vee") poly("1,2 8,8 15,2 8,15");
    else {
      el = document.createElementNS(SVG, "rect");
      el.setAttribute("x", "1.5"); el.setAttribute("y", shape === "rectangle" ? "3" : "2.5");
      el.setAttribute("width", "13"); el.setAttribute("height", shape === "rectangle" ? "10" : "11");
      el.setAttribute("rx", shape === "round-rectangle" ? "3" : "0.5");
    }
    el.setAttribute("fill", color);
    svg.appendChild(el);
    return svg;
  }

  function lineSwatch(family) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 10");
    svg.setAttribute("class", "gx-swatch gx-line");
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("x1", "1"); line.setAttribute("y1", "5");
    line.setAttribute("x2", "23"); line.setAttribute("y2", "5");
    line.setAttribute("stroke", family.color);
    line.setAttribute("stroke-width", "2");
    if (family.line === "dashed") line.setAttribute("stroke-dasharray", "4 3");
    if (family.line === "dotted") line.setAttribute("stroke-dasharray", "1.5 2.5");
    svg.appendChild(line);
    return svg;
  }

  function renderLegend() {
    const box = $("gx-legend");
    box.textContent = "";
    const present = new Map();
    cy.nodes().forEach((n) => present.set(n.data("kind"), (present.get(n.data("kind")) || 0) + 1));
    const list = document.createElement("ul");
    for (const k of meta.kinds) {
      if (!present.has(k.name)) continue;
      const item = document.createElement("li");
      item.appendChild(swatch(k.shape, k.color));
      item.appendChild(document.createTextNode(`${k.label} (${present.get(k.name)})`));
      list.appendChild(item);
    }
    const fams = new Set();
    cy.edges(":visible").forEach((e) => fams.add(e.data("family")));
    const links = document.createElement("ul");
    for (const [name, fam] of Object.entries(families)) {
      if (!fams.has(name)) continue;
      const item = document.createElement("li");
      item.appendChild(lineSwatch(fam));
      item.appendChild(document.createTextNode(fam.label));
      links.appendChild(item);
    }
    const note = document.createElement("p");
    note.className = "gx-legend-note";
    note.textContent = "Size: number of links. Faded, dashed: ended or replaced.";
    const summary = document.createElement("summary");
    summary.textContent = "Legend";
    const details = document.createElement("details");
    details.open = legendOpen;
    details.addEventListener("toggle", () => { legendOpen = details.open; });
    details.append(summary, list, links, note);
    box.appendChild(details);
    box.hidden = cy.nodes().length === 0;
  }

  // ------------------------------------------------------------------ side panel
  function formatDate(value) {
    const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
    if (!m) return value;
    if (m[3]) return `${parseInt(m[3], 10)} ${MONTHS[parseInt(m[2], 10) - 1]} ${m[1]}`;
    if (m[2]) return `${MONTHS[parseInt(m[2], 10) - 1]} ${m[1]}`;
    return m[1];
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function labelOf(list, id) {
    const found = (list || []).find((x) => x.id === id);
    return found ? found.label : id;
  }

  function showPanel(node) {
    const d = node.data();
    const kind = kinds[d.kind];
    const body = $("gx-panel-body");
    body.textContent = "";
    const badge = el("span", { class: "gx-badge" }, kind ? kind.label : d.kind);
    badge.style.background = d.color;
    body.appendChild(el("p", { class: "gx-kind" }, badge, d.subtype ? " " + d.subtype : ""));
    body.appendChild(el("h2", { id: "gx-panel-title" }, d.label));
    const facts = el("dl", { class: "gx-facts" });
    const fact = (term, value) => { if (value) facts.append(el("dt", {}, term), el("dd", {}, value)); };
    fact("Acronym", d.acronym);
    fact("Also called", (d.altLabels || []).join("; "));
    fact("Status", d.status);
    fact("Binding", d.binding);
    for (const [prop, value] of Object.entries(d.dates || {})) {
      fact(DATE_LABELS[prop] || prop, formatDate(value));
    }
    fact("Region", (d.regions || []).map((r) => labelOf(meta.regions, r)).join(", "));
    fact("Thematic areas", (d.themes || []).map((t) => labelOf(meta.themes, t)).join(", "));
    fact("Source pages", (d.pages || []).join(", "));
    if (d.past) fact("Note", "ended or replaced" + (state.year !== null ? ` by ${state.year}` : ""));
    body.appendChild(facts);

    const actions = el("div", { class: "gx-actions" },
      el("button", { type: "button", class: "gx-btn gx-primary", id: "gx-expand" }, "Expand neighbours"),
      el("button", { type: "button", class: "gx-btn", id: "gx-hide-rest" }, "Hide the rest"),
      el("button", { type: "button", class: "gx-btn", id: "gx-hide-node" }, "Hide"));
    body.appendChild(actions);
    if (d.url) {
      body.appendChild(el("p", { class: "gx-entity-link" },
        el("a", { href: d.url, id: "gx-entity-link" }, "Open the entity page →")));
    }
    const links = node.connectedEdges().filter((e) => !e.hasClass("contained"));
    const children = node.children();
    if (links.length || children.length || node.parent().length) {
      const list = el("ul", { class: "gx-links" });
      const item = (text, other) => {
        const li = el("li", {}, text + " ", el("button", { type: "button", class: "gx-link" }, other.data("short")));
        li.querySelector("button").addEventListener("click", () => select(other));
        list.appendChild(li);
      };
      links.forEach((e) => {
        const outgoing = e.source().id() === d.id;
        const other = outgoing ? e.target() : e.source();
        item(outgoing ? e.data("label") : `← ${e.data("label")}`, other);
      });
      if (node.parent().length) item("unit of", node.parent());
      children.forEach((c) => item("has unit", c));
      body.appendChild(el("h3", {}, `Links in this view (${list.children.length})`));
      body.appendChild(list);
    }
    $("gx-expand").addEventListener("click", () => expand(node.id()));
    $("gx-hide-rest").addEventListener("click", () => hideRest(node));
    $("gx-hide-node").addEventListener("click", () => { closePanel(); node.remove(); recount(); });
    $("gx-panel").hidden = false;
    root.classList.add("with-panel");
  }

  function closePanel() {
    $("gx-panel").hidden = true;
    root.classList.remove("with-panel");
    if (cy) { cy.elements().removeClass("faded near"); cy.nodes().unselect(); }
  }

  function highlight(node) {
    const near = node.closedNeighborhood().union(node.ancestors()).union(node.descendants());
    cy.batch(() => {
      cy.elements().removeClass("near").addClass("faded");
      near.removeClass("faded");
      near.edges().addClass("near");
      near.nodes().ancestors().removeClass("faded");
    });
  }

  function select(node) {
    cy.nodes().unselect();
    node.select();
    highlight(node);
    showPanel(node);
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1.0) }, { duration: 350 });
  }

  function recount() {
    setStatus(`${cy.nodes().length} nodes shown · ${cy.edges(":visible").length} links`);
    cyBox.dataset.nodeCount = String(cy.nodes().length);
    renderLegend();
  }

  // ------------------------------------------------------------------ exploration
  async function expand(id) {
    setStatus("Expanding…");
    cyBox.dataset.status = "loading";
    const params = { focus: id, depth: "1" };
    const saved = { kind: state.kind, region: state.region, relation: state.relation, theme: state.theme };
    // neighbours of every kind and region, as of the same year
    state.kind = new Set(); state.region = new Set(); state.relation = new Set(); state.theme = new Set();
    let result;
    try {
      result = await fetchGraph(params);
    } finally {
      Object.assign(state, saved);
    }
    const elements = decorate(result.body);
    const center = cy.getElementById(id);
    const origin = center.length ? center.position() : { x: 0, y: 0 };
    const added = [];
    cy.batch(() => {
      for (const n of elements.nodes) {
        if (cy.getElementById(n.data.id).length) continue;
        if (n.data.parent && !cy.getElementById(n.data.parent).length
            && !elements.nodes.some((m) => m.data.id === n.data.parent)) delete n.data.parent;
        n.position = { x: origin.x + (Math.random() - 0.5) * 160, y: origin.y + (Math.random() - 0.5) * 160 };
        added.push(n);
      }
      cy.add(added);
      cy.add(elements.edges.filter((e) => !cy.getElementById(e.data.id).length
        && cy.getElementById(e.data.source).length && cy.getElementById(e.data.target).length));
    });
    applyEdgeLabels();
    await runLayout(false);
    cyBox.dataset.status = "ready";
    recount();
    const node = cy.getElementById(id);
    if (node.length) select(node);
  }

  function hideRest(node) {
    const keep = node.closedNeighborhood().union(node.ancestors()).union(node.descendants());
    keep.merge(keep.nodes().ancestors());
    cy.elements().not(keep).remove();
    cy.elements().removeClass("faded");
    recount();
    runLayout(false).then(() => { cyBox.dataset.status = "ready"; select(node); });
  }

  // ------------------------------------------------------------------ search
  function searchMatches(text) {
    const q = text.trim().toLowerCase();
    if (!q) return [];
    const scored = [];
    for (const entry of index) {
      const names = [entry.acronym, entry.label, ...(entry.alt || [])].filter(Boolean)
        .map((s) => s.toLowerCase());
      let score = 0;
      for (const name of names) {
        if (name === q) score = Math.max(score, 100);
        else if (name.startsWith(q)) score = Math.max(score, 60);
        else if (name.split(/[\s\-(]+/).some((w) => w.startsWith(q))) score = Math.max(score, 40);
        else if (name.includes(q)) score = Math.max(score, 20);
      }
      if (score) scored.push([score + (cy.getElementById(entry.id).length ? 5 : 0), entry]);
    }
    scored.sort((a, b) => b[0] - a[0] || a[1].label.localeCompare(b[1].label));
    return scored.slice(0, 12).map((x) => x[1]);
  }

  function showResults() {
    const list = $("gx-results");
    list.textContent = "";
    const matches = searchMatches($("gx-search").value);
    for (const [i, entry] of matches.entries()) {
      const kind = kinds[entry.kind];
      const li = el("li", { role: "option", "data-id": entry.id, class: i === 0 ? "active" : "" },
        swatch(kind.shape, kind.color),
        el("span", { class: "gx-result-label" }, entry.acronym && entry.acronym !== entry.label
          ? `${entry.acronym} — ${entry.label}` : entry.label),
        el("span", { class: "gx-result-kind" }, cy.getElementById(entry.id).length ? kind.label
          : kind.label + " · not shown"));
      li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(entry.id); });
      list.appendChild(li);
    }
    if (!matches.length && $("gx-search").value.trim()) {
      list.appendChild(el("li", { class: "gx-no-result" }, "No match"));
    }
    list.hidden = list.children.length === 0;
  }

  async function choose(id) {
    $("gx-results").hidden = true;
    const node = cy.getElementById(id);
    if (node.length) { select(node); return; }
    await expand(id);
  }

  function moveActive(step) {
    const items = [...$("gx-results").querySelectorAll("li[data-id]")];
    if (!items.length) return;
    let at = items.findIndex((li) => li.classList.contains("active"));
    items.forEach((li) => li.classList.remove("active"));
    at = (at + step + items.length) % items.length;
    items[at].classList.add("active");
    items[at].scrollIntoView({ block: "nearest" });
  }

  // ------------------------------------------------------------------ tooltip
  function showTooltip(event) {
    const target = event.target;
    const tip = $("gx-tooltip");
    if (target.isNode()) {
      const kind = kinds[target.data("kind")];
      tip.textContent = "";
      tip.append(el("strong", {}, target.data("label")), el("br"),
        el("span", {}, (kind ? kind.label : "") + (target.data("start") ? ` · since ${target.data("start")}` : "")));
    } else {
      tip.textContent = `${target.source().data("short")} ${target.data("label")} ${target.target().data("short")}`;
    }
    const pos = event.renderedPosition;
    tip.style.left = `${pos.x + 14}px`;
    tip.style.top = `${pos.y + 10}px`;
    tip.hidden = false;
  }

  // ------------------------------------------------------------------ wiring
  function setYear(value) {
    state.year = value;
    syncControls();
    debouncedRefresh();
  }

  let timer = null;
  function debouncedRefresh() {
    clearTimeout(timer);
    timer = setTimeout(() => refresh({ keepPositions: true }), 160);
  }

  function wire() {
    document.querySelector(".gx-filters").addEventListener("change", (event) => {
      const box = event.target;
      if (box.dataset.facet) {
        const set = state[box.dataset.facet];
        if (box.checked) set.add(box.value); else set.delete(box.value);
        syncControls();
        refresh({ keepPositions: true });
      }
    });
    $("gx-instruments").addEventListener("change", (event) => {
      for (const k of meta.kinds.filter((x) => x.group === "instruments")) {
        if (event.target.checked) state.kind.add(k.name); else state.kind.delete(k.name);
      }
      syncControls();
      refresh({ keepPositions: true });
    });
    $("gx-group").addEventListener("change", (event) => {
      state.group = event.target.checked;
      refresh({ keepPositions: true });
    });
    $("gx-edge-labels").addEventListener("change", applyEdgeLabels);
    $("gx-year-on").addEventListener("change", (event) => {
      setYear(event.target.checked ? parseInt($("gx-year").value, 10) : null);
    });
    $("gx-year").addEventListener("input", (event) => {
      state.year = parseInt(event.target.value, 10);
      $("gx-year-label").textContent = String(state.year);
      debouncedRefresh();
    });
    $("gx-play").addEventListener("click", togglePlay);
    $("gx-fit").addEventListener("click", () => cy.animate({ fit: { padding: 40 } }, { duration: 300 }));
    $("gx-relayout").addEventListener("click", () => runLayout(true).then(() => { cyBox.dataset.status = "ready"; }));
    $("gx-reset").addEventListener("click", reset);
    $("gx-empty-reset").addEventListener("click", reset);
    $("gx-png").addEventListener("click", exportPng);
    $("gx-close").addEventListener("click", closePanel);
    $("gx-toggle-filters").addEventListener("click", () => root.classList.toggle("show-filters"));
    const search = $("gx-search");
    search.addEventListener("input", showResults);
    search.addEventListener("focus", showResults);
    search.addEventListener("blur", () => { $("gx-results").hidden = true; });
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); moveActive(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); moveActive(-1); }
      else if (event.key === "Enter") {
        event.preventDefault();
        const active = $("gx-results").querySelector("li.active[data-id]")
          || $("gx-results").querySelector("li[data-id]");
        if (active) choose(active.dataset.id);
      } else if (event.key === "Escape") { search.value = ""; $("gx-results").hidden = true; }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && document.activeElement !== search) { event.preventDefault(); search.focus(); }
      if (event.key === "Escape" && document.activeElement !== search) closePanel();
    });

    cy.on("tap", "node", (event) => select(event.target));
    cy.on("tap", (event) => { if (event.target === cy) closePanel(); });
    cy.on("mouseover", "node, edge", (event) => {
      showTooltip(event);
      if (event.target.isEdge()) event.target.addClass("hover");
    });
    cy.on("mouseout", "node, edge", (event) => {
      $("gx-tooltip").hidden = true;
      if (event.target.isEdge()) event.target.removeClass("hover");
    });
    cy.on("viewport", () => { $("gx-tooltip").hidden = true; });
  }

  function togglePlay() {
    if (playTimer) { clearInterval(playTimer); playTimer = null; $("gx-play").textContent = "▶"; return; }
    const slider = $("gx-year");
    if (parseInt(slider.value, 10) >= parseInt(slider.max, 10)) slider.value = slider.min;
    $("gx-play").textContent = "❚❚";
    playTimer = setInterval(() => {
      const next = parseInt(slider.value, 10) + 1;
      if (next > parseInt(slider.max, 10)) { togglePlay(); return; }
      slider.value = String(next);
      setYear(next);
    }, 1400);
  }

  function reset() {
    if (playTimer) togglePlay();
    history.replaceState(null, "", window.location.pathname);
    state = readState();
    expandKindGroups();
    syncControls();
    closePanel();
    $("gx-search").value = "";
    refresh({ keepPositions: false });
  }

  function exportPng() {
    const blob = cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff", maxWidth: 6000, maxHeight: 6000 });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "tipgraph-graph.png";
    document.body.appendChild(link);
    link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  }

  function start() {
    if (typeof cytoscape === "undefined" || typeof cytoscapeFcose === "undefined") {
      setStatus("The graph library did not load.");
      cyBox.dataset.status = "error";
      return;
    }
    // cytoscape-fcose registers itself with the global cytoscape when it loads
    cy = cytoscape({
      container: cyBox, style: style(), minZoom: 0.08, maxZoom: 4,
      boxSelectionEnabled: false, selectionType: "single",
    });
    window.tipgraphGraph = { cy, state: () => state, refresh };
    wire();
    refresh({ keepPositions: false });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
