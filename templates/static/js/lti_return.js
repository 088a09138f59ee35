// The deep-linking answer goes back to the LMS at once (the button is the fallback without
// scripts). A separate file: the production CSP allows no inline script.
document.querySelector("form[data-autosubmit]")?.submit();
