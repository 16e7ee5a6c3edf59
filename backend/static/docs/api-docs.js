// Starts Swagger UI on /api/docs/. A file rather than an inline script: the Content-Security-Policy allows only
// scripts from this origin.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.specUrl, window.location.href).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    // Not the standalone layout: its top bar draws a logo whose SVG carries an inline <style>, which the
    // Content-Security-Policy (style-src 'self') blocks.
    layout: "BaseLayout",
    validatorUrl: null, // no badge fetched from validator.swagger.io
    showExtensions: true,
    showCommonExtensions: true,
  });
});
