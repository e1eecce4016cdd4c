// The query editor at /sparql: YASGUI (vendored), our prefixes, the example queries, and
// result links that lead to this site's pages. Configuration comes from a JSON block in the page
// (no inline script: the Content-Security-Policy allows scripts from 'self' only).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("tipgraph-sparql-config").textContent);
  const Yasgui = window.Yasgui.default || window.Yasgui;
  const prologue = Object.entries(config.prefixes)
    .map(([prefix, ns]) => `PREFIX ${prefix}: <${ns}>`).join("\n");
  const starter = `${prologue}\n\nSELECT ?class (COUNT(?thing) AS ?things)\nWHERE {\n  ?thing a ?class .\n}\nGROUP BY ?class\nORDER BY DESC(?things)\nLIMIT 20\n`;

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: new URL(config.endpoint, window.location.href).href, method: "POST" },
    copyEndpointOnNewTab: false,
    persistenceId: null,
    yasqe: { value: starter },
  });

  function withPrologue(sparql) {
    // Example files may rely on the server's predeclared prefixes; show them declared.
    return /^\s*(PREFIX|BASE)\b/im.test(sparql) ? sparql : `${prologue}\n\n${sparql}`;
  }

  const select = document.getElementById("examples");
  const description = document.getElementById("example-description");
  const groups = new Map();
  config.examples.forEach((example, index) => {
    const category = example.category || "Other";
    if (!groups.has(category)) {
      const group = document.createElement("optgroup");
      group.label = category;
      groups.set(category, group);
      select.appendChild(group);
    }
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = example.title;
    groups.get(category).appendChild(option);
  });
  select.addEventListener("change", () => {
    const example = config.examples[Number(select.value)];
    if (!select.value || !example) return;
    description.textContent = example.description;
    yasgui.getTab().getYasqe().setValue(withPrologue(example.sparql));
  });

  // IRIs of this knowledge graph link to their page on this server (same path), not to the
  // base IRI's host.
  function localise(root) {
    const links = [...root.querySelectorAll("a[href]")];
    if (root.matches("a[href]")) links.push(root);
    links.forEach((link) => {
      const href = link.getAttribute("href");
      if (href && href.startsWith(config.linkBase)) {
        link.setAttribute("href", "/" + href.slice(config.linkBase.length));
        link.removeAttribute("target");
      }
    });
  }
  new MutationObserver((changes) => {
    changes.forEach((change) => change.addedNodes.forEach((node) => {
      if (node.nodeType === Node.ELEMENT_NODE) localise(node);
    }));
  }).observe(document.getElementById("yasgui"), { childList: true, subtree: true });
  window.tipgraphYasgui = yasgui;
})();
