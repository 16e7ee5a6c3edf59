// Starts Swagger UI on /api/docs/. A file rather than an inline script: the Content-Security-Policy allows only
// scripts from this origin.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.specUrl, window.location.href).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    validatorUrl: null, // no badge fetched from validator.swagger.io
    showExtensions: true,
    showCommonExtensions: true,
  });
});
