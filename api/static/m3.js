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
