// Suivi M+3 pages: what a failed htmx request shows (the server answers every refusal itself).
document.addEventListener("htmx:responseError", function (evt) {
  var notice = document.getElementById("notice");
  if (notice) {
    notice.innerHTML = '<div class="problem" role="alert"><strong>Erreur du serveur (' +
      evt.detail.xhr.status + ').</strong> Rien n\u2019a été enregistré si le message ne le dit pas. ' +
      '<a href="">Recharger la page</a></div>';
  }
});
document.addEventListener("htmx:sendError", function () {
  var notice = document.getElementById("notice");
  if (notice) {
    notice.innerHTML = '<div class="problem" role="alert"><strong>Serveur injoignable.</strong> ' +
      'Vérifiez la connexion, puis <a href="">rechargez la page</a>.</div>';
  }
});

// The manager's pages, without inline handlers (the pages' CSP allows no inline script):
// a select that submits its form when it changes, "tout cocher", and a confirmation before a
// form that says so (data-confirm).
document.addEventListener("change", (e) => {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});
document.addEventListener("click", (e) => {
  if (!e.target.matches("input[data-check-all]")) return;
  for (const box of e.target.closest("table").querySelectorAll("tbody input[type=checkbox]")) {
    box.checked = e.target.checked;
  }
});
document.addEventListener("submit", (e) => {
  const message = e.target.dataset.confirm;
  if (message && !window.confirm(message)) e.preventDefault();
});
