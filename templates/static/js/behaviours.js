// Behaviour declared in markup, so that pages need no inline script (the production CSP
// forbids it):
//   <form data-confirm="Question?">   asks before submitting;
//   <select data-autosubmit>          submits its form when changed;
//   <input data-select-on-focus>      selects its text when clicked.
document.addEventListener("submit", function (event) {
  var question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("[data-autosubmit]") && event.target.form) {
    event.target.form.submit();
  }
});
document.addEventListener("click", function (event) {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});
