// The blast-radius page's own script: reads the graph's JSON, draws it, shows a node's details as text, and
// records what it drew and any error on the <html> element (for tests, and anyone curious).
(function () {
  var root = document.documentElement, errors = [];
  window.addEventListener("error", function (event) { errors.push(String(event.message)); root.dataset.errors = JSON.stringify(errors); });
  var data = JSON.parse(document.getElementById("keytrail-graph").textContent);
  var colours = {"long-term": "#2f6fde", "temporary": "#1a9c8c", "console-password": "#8250df"};
  var style = [
    {selector: "node", style: {"label": "data(label)", "text-wrap": "wrap", "font-size": 9, "text-valign": "center", "color": "#fff",
      "width": 140, "height": 50, "text-max-width": 134, "shape": "round-rectangle", "background-color": "#6e7781", "border-width": 1, "border-color": "#24292f"}},
    {selector: "node.credential", style: {"background-color": function (n) { return colours[n.classes().filter(function (c) { return colours[c]; })[0]] || "#6e7781"; }}},
    {selector: "node.active, node.unknown, node.open", style: {"border-width": 4, "border-color": "#d1242f"}},
    {selector: "node.deleted, node.expired, node.inactive, node.closed", style: {"background-color": "#eaeef2", "color": "#424a53", "border-style": "dotted", "border-width": 2}},
    {selector: "node.root", style: {"width": 110, "height": 56, "font-weight": "bold"}},
    {selector: "node.door", style: {"shape": "diamond", "width": 96, "height": 64, "background-color": "#bc4c00"}},
    {selector: "node.principal", style: {"shape": "ellipse", "background-color": "#57606a"}},
    {selector: "node.failed", style: {"width": 190, "text-max-width": 160, "shape": "tag", "background-color": "#fff", "color": "#a40e26", "border-style": "dashed", "border-color": "#a40e26", "border-width": 2}},
    {selector: "edge", style: {"width": 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "label": "data(label)", "font-size": 8,
      "line-color": "#8c959f", "target-arrow-color": "#8c959f", "text-background-color": "#fff", "text-background-opacity": 1}},
    {selector: "edge.failed", style: {"line-style": "dashed", "line-color": "#a40e26", "target-arrow-color": "#a40e26"}}
  ];
  var cy = cytoscape({container: document.getElementById("graph"), elements: data.elements, style: style,
    layout: {name: "breadthfirst", directed: true, roots: data.roots, spacingFactor: 1.15, padding: 16}});
  var panel = document.getElementById("details");
  cy.on("tap", "node", function (event) {
    var d = event.target.data("details"), lines = [];
    Object.keys(d).forEach(function (k) { lines.push(k + ": " + (d[k] === null ? "" : String(d[k]))); });
    panel.textContent = lines.join("\n");
  });
  root.dataset.graphNodes = JSON.stringify(cy.nodes().map(function (n) { return n.id(); }).sort());
  root.dataset.graphEdges = JSON.stringify(cy.edges().map(function (e) { return e.source().id() + " > " + e.target().id(); }).sort());
  root.dataset.ready = "yes";
})();
