// cets pages' only script (the Content-Security-Policy allows no inline script): a <select data-autosubmit>
// submits its form when changed; without JavaScript the form's <noscript> button does the same.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
    el.form.submit();
  }
});
