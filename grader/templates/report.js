"use strict";
// The class report's behaviour: sort by a column, filter the rows, open a submission's panel.
// Reads only the page's own attributes and text; writes only textContent, attributes and classes.
(() => {
  const table = document.getElementById("students");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const heads = Array.from(table.tHead.rows[0].cells);
  const collator = new Intl.Collator(document.documentElement.lang, { numeric: true, sensitivity: "base" });

  heads.forEach((th, column) => th.querySelector("button").addEventListener("click", () => {
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    heads.forEach((other) => other.setAttribute("aria-sort", "none"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const numeric = th.dataset.type === "num";
    const key = (row) => row.cells[column].dataset.v;
    const order = (a, b) => numeric ? Number(key(a)) - Number(key(b)) : collator.compare(key(a), key(b));
    const sorted = rows.slice().sort((a, b) => (ascending ? order(a, b) : order(b, a)));  // stable: ties keep order
    body.append(...sorted);
  }));

  const query = document.getElementById("q");
  const status = document.getElementById("status");
  const check = document.getElementById("check");
  const shown = document.getElementById("shown");
  const filter = () => {
    const text = query.value.trim().toLowerCase();
    let count = 0;
    for (const row of rows) {
      const keep = (!text || row.dataset.text.includes(text)) && (!status.value || row.dataset.status === status.value)
        && (!check.value || row.dataset.fails.split(" ").includes(check.value));
      row.hidden = !keep;
      count += keep ? 1 : 0;
    }
    shown.textContent = shown.dataset.template.replace("{shown}", count).replace("{total}", rows.length);
  };
  [query, status, check].forEach((control) => control.addEventListener("input", filter));

  const open = (id) => {
    const panel = document.getElementById(id);
    if (!(panel instanceof HTMLDialogElement)) return;
    document.querySelectorAll("dialog[open]").forEach((other) => other.close());
    panel.showModal();
    history.replaceState(null, "", "#" + id);
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.open");
    if (link) {
      event.preventDefault();
      open(link.hash.slice(1));
    }
  });
  document.querySelectorAll("dialog").forEach((panel) => {
    panel.addEventListener("close", () => history.replaceState(null, "", location.pathname + location.search));
    panel.addEventListener("click", (event) => { if (event.target === panel) panel.close(); });  // the backdrop
  });
  const fromAddress = () => { if (location.hash) open(location.hash.slice(1)); };  // a link to report.html#sN
  window.addEventListener("hashchange", fromAddress);
  fromAddress();
})();
