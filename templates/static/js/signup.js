// Suggest a web address from the name while the person types; the server checks it again.
(function () {
  var name = document.getElementById("id_tenant_name");
  var slug = document.getElementById("id_slug");
  var status = document.getElementById("slug-status");
  var form = slug && slug.form;
  if (!name || !slug || !form) return;
  var endpoint = form.dataset.slugUrl;
  var baseDomain = form.dataset.baseDomain;
  var edited = slug.value !== "";
  var timer = null;
  function show(text, ok) { status.textContent = text; status.className = "slug-status " + (ok ? "ok" : "bad"); }
  function check(params) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(endpoint + "?" + new URLSearchParams(params), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (!params.slug) { slug.value = data.slug; show("“" + data.slug + "." + baseDomain + "” is free.", true); }
          else if (data.ok) { show("“" + data.slug + "” is free.", true); }
          else { show(data.message, false); }
        }).catch(function () {});
    }, 300);
  }
  name.addEventListener("input", function () { if (!edited && name.value.trim()) check({name: name.value}); });
  slug.addEventListener("input", function () { edited = slug.value !== ""; if (edited) check({slug: slug.value.toLowerCase()}); });
})();
