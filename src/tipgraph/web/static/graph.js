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

  // ------------------------------------------------------------------ state <-> address bar
  function readState() {
    const params = new URLSearchParams(window.location.search);
    const source = [...params.keys()].some((k) => k !== "focus") ? params
      : new URLSearchParams(defaults);
    const s = { group: source.get("group") !== "0", unlinked: source.get("unlinked") !== "0" };
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
    if (!state.unlinked) params.set("unlinked", "0");
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
      d.display = shorten(d.short, d.group === "mechanisms" ? 52 : 40);
      if (d.group === "mechanisms") {
        Object.assign(d, boxSize(d.display, grow));
      } else {
        d.w = d.h = Math.round(22 + 26 * grow);
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

  function shorten(text, most) {
    return text.length > most ? text.slice(0, most - 2).replace(/\s+\S*$/, "") + "…" : text;
  }

  // A mechanism is a box with its name inside (17 px bold), wrapped at 230 px: the box is
  // measured to fit the wrapped lines.
  const MECHANISM_FONT = 17;
  const FONT_FAMILY = "system-ui, -apple-system, Segoe UI, sans-serif";
  const measure = document.createElement("canvas").getContext("2d");
  function boxSize(text, grow) {
    const most = 230;
    measure.font = `700 ${MECHANISM_FONT}px ${FONT_FAMILY}`;
    const lines = [];
    for (const word of text.split(/\s+/)) {
      const line = lines.length ? `${lines[lines.length - 1]} ${word}` : word;
      if (lines.length && measure.measureText(line).width <= most) lines[lines.length - 1] = line;
      else lines.push(word);
    }
    const widest = Math.max(...lines.map((l) => measure.measureText(l).width));
    return {
      w: Math.max(58, Math.ceil(widest + 26)),
      h: Math.round(lines.length * MECHANISM_FONT * 1.2 + 14 + 6 * (grow || 0)),
      textWidth: Math.ceil(Math.max(widest, most)) + 2,
    };
  }

  // ------------------------------------------------------------------ drawing
  function style() {
    return [
      { selector: "node", style: {
        "background-color": "data(color)", shape: "data(shape)", width: "data(w)",
        height: "data(h)", label: "data(display)", "font-size": 13, "font-family": FONT_FAMILY, color: "#1d2433", "text-valign": "bottom",
        "text-margin-y": 3, "text-wrap": "wrap", "text-max-width": 118, "line-height": 1.1,
        "text-outline-color": "#ffffff", "text-outline-width": 2, "text-outline-opacity": 0.9,
        "border-width": 1.5, "border-color": "#ffffff", "min-zoomed-font-size": 7,
        "transition-property": "opacity", "transition-duration": 150,
      } },
      { selector: "node.mechanisms", style: {
        "text-valign": "center", "text-margin-y": 0, color: "#ffffff", "font-weight": 700,
        "font-size": MECHANISM_FONT, "text-outline-width": 0, "text-max-width": "data(textWidth)",
        "line-height": 1.15, "corner-radius": 7,
      } },
      { selector: "node.partners", style: { "font-size": 13.5 } },
      { selector: "node.instruments", style: { "font-size": 10, "text-max-width": 150 } },
      { selector: "node:parent", style: {
        shape: "round-rectangle", "background-color": "data(color)", "background-opacity": 0.07,
        "border-color": "data(color)", "border-width": 1.5, "border-opacity": 0.55,
        "text-valign": "top", "text-halign": "center", "text-margin-y": -4, color: "#2b3a55",
        "font-weight": 700, "font-size": 15, "text-outline-width": 2,
        "text-outline-color": "#ffffff", padding: 12, "corner-radius": 10,
        "text-max-width": 260,
      } },
      { selector: "node.mechanisms:parent", style: { "font-size": MECHANISM_FONT + 1, color: "data(color)" } },
      // a closed mechanism: drawn as a box again, with the number of bodies inside it
      { selector: "node:parent.closed", style: {
        shape: "round-rectangle", width: "data(closedW)", height: "data(h)",
        label: "data(closedLabel)", "background-opacity": 1, "border-width": 2,
        "border-color": "#ffffff", "border-opacity": 1, "text-valign": "center",
        "text-margin-y": 0, color: "#ffffff", "font-size": MECHANISM_FONT, "text-outline-width": 0,
        "text-max-width": "data(closedTextWidth)", padding: 0, "corner-radius": 7,
"underlay-color": "data(color)", "underlay-opacity": 0.18,
        "underlay-padding": 4, "underlay-shape": "round-rectangle",
      } },
      { selector: "node.inside-closed", style: { display: "none" } },
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
      { selector: "edge.lifted", style: { width: 1.8 } },
      { selector: "edge.contained", style: { display: "none" } },
      { selector: "edge.labelled, edge.hover, edge.near", style: { label: "data(label)" } },
      { selector: ".faded", style: { opacity: 0.12 } },
      { selector: "edge.near", style: { width: 2.4, opacity: 1 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#ffb300" } },
      { selector: "node.match", style: { "border-width": 4, "border-color": "#ffb300" } },
    ];
  }

  // ------------------------------------------------------------------ layout: grouped by region
  // Each region of the view gets a panel; inside it, each connected group of organisations
  // (a mechanism with its bodies, a partner linked to it...) is laid out by fcose on its own,
  // and the groups are packed in rows, then the panels are packed to the shape of the window.
  // fcose alone spreads small disconnected groups over the whole canvas (tiny labels).
  const PANEL_PAD = 12;
  const PANEL_HEAD = 26;
  const PANEL_GAP = 18;
  const GROUP_GAP = 18;
  const MAX_ZOOM_FIT = 1.25;

  function componentOptions(randomize) {
    return {
      name: "fcose", quality: "proof", randomize, animate: false, fit: false,
      nodeDimensionsIncludeLabels: false, packComponents: false, tile: false,
      nodeRepulsion: () => 6000, idealEdgeLength: () => 40, edgeElasticity: () => 0.45,
      gravity: 0.35, numIter: 2500, uniformNodeDimensions: false,
    };
  }

  function rootOf(node) {
    let root = node;
    while (root.parent().length) root = root.parent();
    return root;
  }

  function clusterOf(node) { return rootOf(node).data("cluster") || ""; }

  function clusterLabel(id) {
    if (!id) return "Shown";
    const found = meta && meta.regions.find((r) => r.id === id);
    return found ? found.label : id;
  }

  // The heading of a region panel: its name (16 px bold) and the number of mechanisms.
  function headingWidth(cluster) {
    return clusterLabel(cluster).length * 9.6 + 150;
  }

  // What is drawn, by our own classes (Cytoscape's :visible can lag behind a class change).
  const HIDDEN = ".inside-closed";
  function shown(nodes) { return nodes.not(HIDDEN); }
  function shownEdges() {
    return cy.edges().filter((e) => !e.data("contained") && !e.source().hasClass("inside-closed")
      && !e.target().hasClass("inside-closed"));
  }

  function subtree(node) { return shown(node.union(node.descendants())); }

  function boxOf(eles) { return eles.boundingBox({ includeLabels: true, includeOverlays: false }); }

  // Moves nodes with everything inside them (also what a closed mechanism hides).
  function moveBy(nodes, dx, dy) {
    // a closed mechanism has its own position (its hidden bodies do not place it)
    nodes.union(nodes.descendants()).filter((n) => !n.isParent() || n.hasClass("closed"))
      .positions((n) => {
      const p = n.position();
      return { x: p.x + dx, y: p.y + dy };
    });
  }

  // Connected groups of top-level nodes (a link to or from a node inside counts as its root's).
  function components(roots) {
    const index = new Map(roots.map((r, i) => [r.id(), i]));
    const up = roots.map((_, i) => i);
    const find = (i) => (up[i] === i ? i : (up[i] = find(up[i])));
    const links = [];
    shownEdges().forEach((e) => {
      const a = index.get(rootOf(e.source()).id());
      const b = index.get(rootOf(e.target()).id());
      if (a !== undefined && b !== undefined && a !== b) {
        up[find(a)] = find(b);
        links.push([a, b]);
      }
    });
    const groups = new Map();
    roots.forEach((r, i) => {
      const key = find(i);
      if (!groups.has(key)) groups.set(key, { roots: [], links: [] });
      groups.get(key).roots.push(r);
    });
    for (const [a, b] of links) groups.get(find(a)).links.push([roots[a], roots[b]]);
    return [...groups.values()];
  }

  // Packs boxes ({w, h}) bottom-left on a skyline, tallest first, within a width limit; tries
  // limits and keeps the packing that fits a box of the given aspect (width / height) at the
  // largest scale. Sets each box's x, y; returns {w, h}.
  function pack(boxes, aspect, gap) {
    if (!boxes.length) return { w: 0, h: 0 };
    const sorted = [...boxes].sort((a, b) => b.h - a.h || b.w - a.w);
    const widest = Math.max(...boxes.map((b) => b.w));
    const total = boxes.reduce((sum, b) => sum + b.w + gap, -gap);
    let best = null;
    for (let step = 0; step <= 48; step += 1) {
      const limit = widest + ((total - widest) * step) / 48;
      const placed = skyline(sorted, limit, gap);
      const scale = Math.min(aspect / placed.w, 1 / placed.h);
      if (!best || scale > best.scale * 1.001) best = { scale, ...placed };
    }
    for (const [box, x, y] of best.at) { box.x = x; box.y = y; }
    return { w: best.w, h: best.h };
  }

  function skyline(sorted, limit, gap) {
    let sky = [{ x: 0, w: Infinity, y: 0 }];  // the top of what is placed, left to right
    const at = [];
    let width = 0, height = 0;
    for (const box of sorted) {
      let best = null;
      for (const segment of sky) {
        const x = segment.x;
        if (x > 0 && x + box.w > limit + 0.5) break;
        let y = 0;
        for (const other of sky) {
          if (other.x < x + box.w + gap && other.x + other.w > x) y = Math.max(y, other.y);
        }
        if (!best || y < best.y - 0.5) best = { x, y };
      }
      at.push([box, best.x, best.y]);
      width = Math.max(width, best.x + box.w);
      height = Math.max(height, best.y + box.h);
      const left = best.x, right = best.x + box.w + gap, top = best.y + box.h + gap;
      const next = [];
      for (const s of sky) {
        if (s.x + s.w <= left || s.x >= right) { next.push(s); continue; }
        if (s.x < left) next.push({ x: s.x, w: left - s.x, y: s.y });
        if (s.x + s.w > right) next.push({ x: right, w: s.x + s.w - right, y: s.y });
      }
      next.push({ x: left, w: right - left, y: top });
      sky = next.sort((a, b) => a.x - b.x);
    }
    return { at, w: width, h: height };
  }

  // The children of a compound (a mechanism's bodies) in compact rows, inner compounds first.
  function arrange(node) {
    const kids = shown(node.children());
    kids.filter((k) => k.isParent()).forEach(arrange);
    const boxes = kids.map((k) => {
      const eles = subtree(k);
      const bb = boxOf(eles);
      return { eles, bb, w: bb.w, h: bb.h };
    });
    pack(boxes, 1.6, 10);
    for (const b of boxes) moveBy(b.eles, b.x - b.bb.x1, b.y - b.bb.y1);
  }

  // Push overlapping rectangles ({x, y, w, h}, x and y at the centre) apart.
  function separate(rects, gap) {
    for (let pass = 0; pass < 80; pass += 1) {
      let moved = false;
      for (let i = 0; i < rects.length; i += 1) {
        for (let j = i + 1; j < rects.length; j += 1) {
          const a = rects[i], b = rects[j];
          const dx = b.x - a.x, dy = b.y - a.y;
          const ox = (a.w + b.w) / 2 + gap - Math.abs(dx);
          const oy = (a.h + b.h) / 2 + gap - Math.abs(dy);
          if (ox <= 0 || oy <= 0) continue;
          moved = true;
          if (ox < oy) {
            const s = ((dx >= 0 ? 1 : -1) * ox) / 2;
            a.x -= s; b.x += s;
          } else {
            const s = ((dy >= 0 ? 1 : -1) * oy) / 2;
            a.y -= s; b.y += s;
          }
        }
      }
      if (!moved) return;
    }
  }

  // Top-level nodes linked to each other: each is a rigid block (a mechanism with its bodies
  // inside), placed by fcose on stand-ins of the blocks' size, then kept from overlapping.
  function layoutComponent(component, randomize) {
    const blocks = component.roots.map((r) => {
      const eles = subtree(r);
      const bb = boxOf(eles);
      return { id: r.id(), eles, bb };
    });
    if (blocks.length < 2) return;
    const seen = new Set();
    const edges = [];
    for (const [a, b] of component.links) {
      const key = a.id() < b.id() ? `${a.id()}|${b.id()}` : `${b.id()}|${a.id()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push({ data: { id: key, source: a.id(), target: b.id() } });
    }
    const proxy = cytoscape({
      headless: true, styleEnabled: true,
      style: [{ selector: "node", style: { shape: "rectangle", width: "data(w)", height: "data(h)" } }],
      elements: {
        nodes: blocks.map((b) => ({
          data: { id: b.id, w: b.bb.w, h: b.bb.h },
          position: { x: b.bb.x1 + b.bb.w / 2, y: b.bb.y1 + b.bb.h / 2 },
        })),
        edges,
      },
    });
    proxy.layout(componentOptions(randomize)).run();
    const rects = blocks.map((b) => {
      const p = proxy.getElementById(b.id).position();
      return { x: p.x, y: p.y, w: b.bb.w, h: b.bb.h };
    });
    proxy.destroy();
    separate(rects, 14);
    blocks.forEach((b, i) => {
      const r = rects[i];
      moveBy(b.eles, r.x - r.w / 2 - b.bb.x1, r.y - r.h / 2 - b.bb.y1);
    });
  }

  function computeLayout(randomize) {
    const roots = shown(cy.nodes()).filter((n) => !n.parent().length);
    roots.filter((r) => r.isParent()).forEach(arrange);
    const byCluster = new Map();
    roots.forEach((r) => {
      const key = r.data("cluster") || "";
      if (!byCluster.has(key)) byCluster.set(key, []);
      byCluster.get(key).push(r);
    });
    const area = viewportArea();
    const aspect = area.w / area.h;
    const clusters = [];
    for (const [cluster, members] of byCluster) {
      const boxes = [];
      for (const component of components(members)) {
        layoutComponent(component, randomize);
        const nodes = cy.collection(component.roots).union(
          cy.collection(component.roots).descendants()).not(HIDDEN);
        const bb = boxOf(nodes);
        boxes.push({ nodes, bb, w: bb.w, h: bb.h });
      }
      clusters.push({ cluster, boxes });
    }
    // Each region is packed to some shape (wider or taller), then the regions to the window's:
    // the shapes are chosen one region at a time, keeping a change when everything fits larger.
    const STRETCH = [0.4, 0.6, 0.8, 1, 1.3, 1.7, 2.2, 3];
    const shapes = clusters.map(({ cluster, boxes }) => STRETCH.map((stretch) => {
      const size = pack(boxes, aspect * stretch, GROUP_GAP);
      return {
        cluster, boxes, inner: size.w, at: boxes.map((b) => [b.x, b.y]),
        w: Math.max(size.w + 2 * PANEL_PAD, headingWidth(cluster)), h: size.h + 2 * PANEL_PAD + PANEL_HEAD,
      };
    }));
    const arrangement = (choice) => {
      const panels = choice.map((k, i) => ({ ...shapes[i][k] }));
      const size = pack(panels, aspect, PANEL_GAP);
      return { scale: Math.min(aspect / size.w, 1 / size.h), panels };
    };
    let choice = clusters.map(() => STRETCH.indexOf(1));
    let best = arrangement(choice);
    for (const k of STRETCH.keys()) {
      const tried = arrangement(clusters.map(() => k));
      if (tried.scale > best.scale * 1.001) { best = tried; choice = clusters.map(() => k); }
    }
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < clusters.length; i += 1) {
        for (const k of STRETCH.keys()) {
          const next = choice.map((c, j) => (j === i ? k : c));
          const tried = arrangement(next);
          if (tried.scale > best.scale * 1.001) { best = tried; choice = next; }
        }
      }
    }
    for (const panel of best.panels) {
      panel.boxes.forEach((box, i) => {
        const [bx, by] = panel.at[i];
        const x = panel.x + (panel.w - panel.inner) / 2 + bx;
        moveBy(box.nodes, x - box.bb.x1, panel.y + PANEL_PAD + PANEL_HEAD + by - box.bb.y1);
      });
    }
  }

  // The part of the canvas the graph may use (all of it; the legend sits under the canvas).
  function viewportArea() {
    return { w: Math.max(cy.width(), 200), h: Math.max(cy.height(), 200) };
  }

  // The zoom and pan that show every node, as large as fits (but not huge for small views).
  function fitViewport(nodes) {
    const bb = panelBounds(nodes);
    const area = viewportArea();
    const pad = 14;
    const zoom = Math.min(MAX_ZOOM_FIT, (area.w - 2 * pad) / bb.w, (area.h - 2 * pad) / bb.h);
    return {
      zoom,
      pan: { x: (area.w - bb.w * zoom) / 2 - bb.x1 * zoom, y: (area.h - bb.h * zoom) / 2 - bb.y1 * zoom },
    };
  }

  function runLayout(randomize, animate) {
    setStatus("Laying out…");
    cyBox.dataset.status = "layout";
    return new Promise((resolve) => {
      const nodes = shown(cy.nodes());
      if (nodes.length === 0) { drawPanels(); resolve(); return; }
      // what has a position of its own: an open compound follows what is inside it
      const placed = nodes.filter((n) => !n.isParent() || n.hasClass("closed"));
      const before = new Map();
      placed.forEach((n) => { before.set(n.id(), { ...n.position() }); });
      computeLayout(randomize);
      const after = new Map();
      placed.forEach((n) => { after.set(n.id(), { ...n.position() }); });
      const view = fitViewport(nodes);
      if (!animate) {
        cy.viewport(view);
        drawPanels();
        resolve();
        return;
      }
      placed.positions((n) => before.get(n.id()));
      drawPanels();
      // each node moves on its own (a preset layout would leave closed mechanisms behind)
      const moves = placed.map((n) => n.animation({
        position: after.get(n.id()), duration: 450, easing: "ease-in-out-cubic",
      }).play().promise());
      moves.push(cy.animation({ ...view, duration: 450, easing: "ease-in-out-cubic" }).play().promise());
      Promise.all(moves).then(() => {
        placed.positions((n) => after.get(n.id()));
        drawPanels();
        resolve();
      });
    });
  }

  // ------------------------------------------------------------------ region panels
  // Drawn in an HTML layer under the graph's canvas, in graph coordinates, so they follow
  // pan, zoom and dragged nodes.
  const panelLayer = document.getElementById("gx-panels");
  let panelFrame = null;

  function panelRects(nodes) {
    const byCluster = new Map();
    (nodes || shown(cy.nodes())).forEach((n) => {
      const key = clusterOf(n);
      byCluster.set(key, (byCluster.get(key) || cy.collection()).union(n));
    });
    const rects = [];
    for (const [cluster, members] of byCluster) {
      const bb = members.boundingBox({ includeLabels: true, includeOverlays: false });
      const w = Math.max(bb.w + 2 * PANEL_PAD, headingWidth(cluster));
      rects.push({
        cluster,
        count: members.length,
        // mechanisms only (not processes such as the GMS): the count the document's headings give
        mechanisms: members.filter((n) => n.data("kind") === "mechanism").length,
        x: bb.x1 - PANEL_PAD - (w - bb.w - 2 * PANEL_PAD) / 2,
        y: bb.y1 - PANEL_PAD - PANEL_HEAD, w, h: bb.h + 2 * PANEL_PAD + PANEL_HEAD,
      });
    }
    return rects.sort((a, b) => a.y - b.y || a.x - b.x);
  }

  function panelBounds(nodes) {
    const rects = panelRects(nodes);
    const x1 = Math.min(...rects.map((r) => r.x)), y1 = Math.min(...rects.map((r) => r.y));
    const x2 = Math.max(...rects.map((r) => r.x + r.w)), y2 = Math.max(...rects.map((r) => r.y + r.h));
    return { x1, y1, w: x2 - x1, h: y2 - y1 };
  }

  function drawPanels() {
    panelLayer.textContent = "";
    if (!shown(cy.nodes()).length) return;
    for (const r of panelRects()) {
      const box = el("div", { class: "gx-region", "data-cluster": r.cluster },
        el("div", { class: "gx-region-head" }, el("strong", {}, clusterLabel(r.cluster)),
          el("span", {}, r.mechanisms ? ` · ${r.mechanisms} mechanism${r.mechanisms > 1 ? "s" : ""}`
            : ` · ${r.count} shown`)));
      Object.assign(box.style, { left: `${r.x}px`, top: `${r.y}px`, width: `${r.w}px`, height: `${r.h}px` });
      panelLayer.appendChild(box);
    }
    syncPanels();
  }

  function syncPanels() {
    const pan = cy.pan();
    panelLayer.style.transform = `translate(${pan.x}px, ${pan.y}px) scale(${cy.zoom()})`;
  }

  function schedulePanels() {
    if (panelFrame) return;
    panelFrame = requestAnimationFrame(() => { panelFrame = null; drawPanels(); });
  }

  // ------------------------------------------------------------------ open and closed mechanisms
  // A large view shows each mechanism closed, as one box with the number of bodies and posts
  // inside; a link from a body is then drawn from its mechanism. Click a mechanism (or search a
  // body) to open it. A small view shows every mechanism open.
  const OPEN_ALL_UPTO = 45;      // nodes in a view that is drawn with every mechanism open
  let autoOpen = true;
  const opened = new Set();      // opened by the visitor in a large view
  const closed = new Set();      // closed by the visitor in a small view

  function isOpen(root) {
    return autoOpen ? !closed.has(root.id()) : opened.has(root.id());
  }

  function outermostClosed(node) {
    let shown = node;
    for (let up = node.parent(); up.length; up = up.parent()) {
      if (up.hasClass("closed")) shown = up;
    }
    return shown;
  }

  function applyClosed() {
    cy.batch(() => {
      cy.edges(".lifted").remove();
      cy.nodes().removeClass("closed inside-closed");
      cy.nodes(".mechanisms").filter((n) => n.isParent() && !n.parent().length).forEach((root) => {
        if (isOpen(root)) return;
        const inside = root.descendants();
        const d = root.data();
        const label = `${d.display}  +${inside.length}`;
        const size = boxSize(label, 0);
        root.data({ closedLabel: label, closedW: size.w, closedTextWidth: size.textWidth });
        root.addClass("closed");
        inside.addClass("inside-closed");
      });
      const lifted = new Map();
      cy.edges().forEach((e) => {
        if (e.data("contained")) return;
        const source = outermostClosed(e.source());
        const target = outermostClosed(e.target());
        if (source.same(e.source()) && target.same(e.target())) return;
        if (source.same(target)) return;
        const d = e.data();
        const key = `${source.id()}|${d.relation}|${target.id()}`;
        const through = [e.source(), e.target()].filter((n) => n.hasClass("inside-closed"))
          .map((n) => n.data("short"));
        if (lifted.has(key)) {
          lifted.get(key).data.through.push(...through);
          return;
        }
        lifted.set(key, {
          group: "edges", classes: ["lifted", d.symmetric ? "symmetric" : ""].join(" ").trim(),
          data: { ...d, id: `lifted|${key}`, source: source.id(), target: target.id(), through },
        });
      });
      cy.add([...lifted.values()]);
    });
    applyEdgeLabels();
  }

  function openAround(node) {
    const root = rootOf(node);
    opened.add(root.id());
    closed.delete(root.id());
  }

  async function toggleOpen(node) {
    const root = rootOf(node);
    if (isOpen(root)) { opened.delete(root.id()); closed.add(root.id()); }
    else { opened.add(root.id()); closed.delete(root.id()); }
    applyClosed();
    await runLayout(false, true);
    cyBox.dataset.status = "ready";
    recount();
    select(root);
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
      if (old[n.id()]) known += 1;
      if (old[n.id()] && !n.isParent()) n.position(old[n.id()]);
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
    autoOpen = cy.nodes().length <= OPEN_ALL_UPTO;
    applyClosed();
    cy.nodes(".closed").forEach((n) => { if (old[n.id()]) n.position(old[n.id()]); });
    renderLegend();
    cy.resize();
    const fresh = known < cy.nodes().length * 0.5;
    return runLayout(fresh, !fresh);
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
    $("gx-unlinked").checked = state.unlinked;
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
    const item = (mark, text, title) => {
      const li = el("li", title ? { title } : {}, mark, text);
      return li;
    };
    const nodes = el("ul", { class: "gx-legend-nodes" });
    for (const k of meta.kinds) {
      if (!present.has(k.name)) continue;
      nodes.appendChild(item(swatch(k.shape, k.color), k.short || k.label,
        `${k.label}: ${present.get(k.name)} in this view`));
    }
    const fams = new Set();
    shownEdges().forEach((e) => fams.add(e.data("family")));
    const links = el("ul", { class: "gx-legend-links" });
    for (const [name, fam] of Object.entries(families)) {
      if (fams.has(name)) links.appendChild(item(lineSwatch(fam), fam.short || name, fam.label));
    }
    const notes = el("ul", { class: "gx-legend-notes" });
    if (cy.nodes(".closed").length) {
      notes.appendChild(item(el("span", { class: "gx-legend-closed" }, "+3"), "bodies inside, click to open",
        "A mechanism drawn closed: the number of its bodies and posts; click it, then Show"));
    }
    notes.appendChild(item(null, "size: links", "The more links a node has, the larger it is"));
    if (cy.nodes(".past").length) {
      notes.appendChild(item(el("span", { class: "gx-legend-past" }), "ended or replaced"));
    }
    box.append(el("span", { class: "gx-legend-title" }, "Legend"), nodes, links, notes);
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

    const inside = rootOf(node).same(node) ? node.descendants().length : 0;
    const openButton = inside ? el("button", { type: "button", class: "gx-btn gx-primary", id: "gx-open" },
      node.hasClass("closed") ? `Show the ${inside} inside` : `Close (hide the ${inside} inside)`) : null;
    const actions = el("div", { class: "gx-actions" }, openButton,
      el("button", { type: "button", class: openButton ? "gx-btn" : "gx-btn gx-primary", id: "gx-expand" },
        "Expand neighbours"),
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
    if (openButton) openButton.addEventListener("click", () => toggleOpen(node));
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
    setStatus(`${cy.nodes().length} nodes shown · ${shownEdges().length} links`);
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
    const target = cy.getElementById(id);
    if (target.length) openAround(target);
    applyClosed();
    await runLayout(false, true);
    cyBox.dataset.status = "ready";
    recount();
    const node = cy.getElementById(id);
    if (node.length) select(node);
  }

  function hideRest(node) {
    let keep = node.closedNeighborhood().union(node.ancestors()).union(node.descendants());
    keep.merge(keep.nodes().ancestors());
    keep.merge(keep.nodes(".closed").descendants());
    keep = keep.union(keep.nodes().edgesWith(keep.nodes()));
    cy.elements().not(keep).remove();
    cy.elements().removeClass("faded");
    applyClosed();
    recount();
    runLayout(false, true).then(() => { cyBox.dataset.status = "ready"; select(node); });
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
    if (node.length) {
      if (node.hasClass("inside-closed")) {
        openAround(node);
        applyClosed();
        await runLayout(false, true);
        cyBox.dataset.status = "ready";
        recount();
      }
      select(node);
      return;
    }
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
    $("gx-unlinked").addEventListener("change", (event) => {
      state.unlinked = event.target.checked;
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
    $("gx-fit").addEventListener("click", () => {
      if (shown(cy.nodes()).length) cy.animate(fitViewport(shown(cy.nodes())), { duration: 300 });
    });
    $("gx-relayout").addEventListener("click", () => runLayout(true, true).then(() => { cyBox.dataset.status = "ready"; }));
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
    cy.on("dbltap", "node", (event) => {
      const root = rootOf(event.target);
      if (root.same(event.target) && root.isParent()) toggleOpen(root);
    });
    cy.on("tap", (event) => { if (event.target === cy) closePanel(); });
    cy.on("mouseover", "node, edge", (event) => {
      showTooltip(event);
      if (event.target.isEdge()) event.target.addClass("hover");
    });
    cy.on("mouseout", "node, edge", (event) => {
      $("gx-tooltip").hidden = true;
      if (event.target.isEdge()) event.target.removeClass("hover");
    });
    cy.on("viewport", () => { $("gx-tooltip").hidden = true; syncPanels(); });
    cy.on("position", "node", schedulePanels);
    cy.on("remove", "node", schedulePanels);
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
    // the legend under the canvas changes height with what is shown
    new ResizeObserver(() => { cy.resize(); syncPanels(); }).observe(cyBox);
    window.tipgraphGraph = { cy, state: () => state, refresh };
    wire();
    refresh({ keepPositions: false });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
