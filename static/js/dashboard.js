// Progressive enhancement for bulk forms: "select all", a live count, and buttons that stay
// disabled until something is selected. Without JavaScript the forms still work.
document.querySelectorAll("form[data-bulk]").forEach((form) => {
  const boxes = () => [...form.querySelectorAll('input[name="ids"]')];
  const all = form.querySelector("[data-select-all]");
  const count = form.querySelector("[data-selected-count]");
  const buttons = form.querySelectorAll("[data-needs-selection]");
  const refresh = () => {
    const selected = boxes().filter((b) => b.checked).length;
    if (count) count.textContent = selected;
    buttons.forEach((b) => { b.disabled = selected === 0; });
    if (all) all.checked = selected > 0 && selected === boxes().length;
  };
  if (all) all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); refresh(); });
  form.addEventListener("change", refresh);
  refresh();
});
