// The console works without JavaScript; this file only enhances it with htmx.
// Every htmx request that changes something carries the session's CSRF token, as the
// forms do in their hidden field.
document.addEventListener('htmx:configRequest', function (event) {
  var token = document.body.dataset.csrf;
  if (token) {
    event.detail.headers['X-CSRF-Token'] = token;
  }
});

// A fragment refreshed in the background must not steal the keyboard focus or the
// selection: htmx keeps the focused element when its id is unchanged, so nothing else is
// needed here. Errors of background refreshes are shown in the status region.
document.addEventListener('htmx:responseError', function (event) {
  var region = document.getElementById('console-live');
  if (region) {
    region.textContent = 'La mise à jour automatique a échoué ; rechargez la page.';
  }
});
