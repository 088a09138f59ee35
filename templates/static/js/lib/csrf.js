// Django's CSRF token for a write from a page script: the form field the page renders (any
// {% csrf_token %} on the page), else the csrftoken cookie.
export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}
