// Progressive enhancement for bulk forms: "select all", a live count, and buttons that stay
// disabled until something is selected, and while more are selected than one action takes
// (data-bulk-max: a page of 200 can list more). Without JavaScript the forms still work, and the
// server refuses too many with a message.
document.querySelectorAll("form[data-bulk]").forEach((form) => {
  const boxes = () => [...form.querySelectorAll('input[name="ids"]')];
  const all = form.querySelector("[data-select-all]");
  const count = form.querySelector("[data-selected-count]");
  const limit = form.querySelector("[data-bulk-limit]");
  const max = Number(form.dataset.bulkMax) || Infinity;
  const buttons = form.querySelectorAll("[data-needs-selection]");
  const refresh = () => {
    const selected = boxes().filter((b) => b.checked).length;
    if (count) count.textContent = selected;
    if (limit) limit.hidden = selected <= max;
    buttons.forEach((b) => { b.disabled = selected === 0 || selected > max; });
    if (all) all.checked = selected > 0 && selected === boxes().length;
  };
  if (all) all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); refresh(); });
  form.addEventListener("change", refresh);
  refresh();
});
