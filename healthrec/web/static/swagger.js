// Starts the API browser at /api/docs on the document its container names.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({url: container.dataset.spec, dom_id: "#swagger-ui-container"});
});
