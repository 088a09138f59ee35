// Behaviour declared in markup, so that pages need no inline script (the production CSP
// forbids it):
//   <form data-confirm="Question?">   asks before submitting;
//   <select data-autosubmit>          submits its form when changed;
//   <input data-select-on-focus>      selects its text when clicked;
//   <button data-menu-button aria-controls="id" aria-expanded="false">
//                                     opens and closes the site menu on narrow screens (the
//                                     stylesheet shows or hides the menu from aria-expanded;
//                                     Escape closes it, as does a click outside it).
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

function setMenu(button, open) {
  button.setAttribute("aria-expanded", open ? "true" : "false");
}
document.addEventListener("click", function (event) {
  var target = event.target;
  var button = target.closest && target.closest("[data-menu-button]");
  if (button) {
    setMenu(button, button.getAttribute("aria-expanded") !== "true");
    return;
  }
  document.querySelectorAll("[data-menu-button][aria-expanded=true]").forEach(function (open) {
    var menu = document.getElementById(open.getAttribute("aria-controls"));
    if (menu && !menu.contains(target)) setMenu(open, false);
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  document.querySelectorAll("[data-menu-button][aria-expanded=true]").forEach(function (open) {
    setMenu(open, false);
    open.focus();
  });
});
