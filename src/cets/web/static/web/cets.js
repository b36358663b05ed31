// cets pages' own script (with the vendored htmx; the Content-Security-Policy allows no inline script): a <select data-autosubmit>
// submits its form when changed; without JavaScript the form's <noscript> button does the same.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
    el.form.submit();
  }
});

// Search-as-you-type lookups (cets.parties.widgets): htmx fills the .lookup-result next to the field; a click on a
// suggestion copies its value into the field and asks again, so the exact match (the holder's name) is shown.
document.addEventListener("click", function (event) {
  var pick = event.target && event.target.closest ? event.target.closest("button.lookup-pick") : null;
  if (!pick) {
    return;
  }
  var box = pick.closest(".lookup");
  var input = box ? box.querySelector("input[data-lookup]") : null;
  if (!input) {
    return;
  }
  event.preventDefault();
  input.value = pick.getAttribute("data-value");
  input.focus();
  input.dispatchEvent(new Event("input", { bubbles: true }));
});
