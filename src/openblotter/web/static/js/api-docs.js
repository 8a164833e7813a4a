// Swagger UI over the portal's own OpenAPI schema (/api/docs only). The bundle is vendored
// (scripts/vendor-assets.sh); validatorUrl is off so that the page asks nothing of another host.
(function () {
  "use strict";

  // Swagger UI draws its parameter fields without labels; name each after its parameter
  // (the row carries data-param-name) so screen readers and axe know what it is for.
  function labelParameterFields(root) {
    root.querySelectorAll("tr[data-param-name]").forEach(function (row) {
      row.querySelectorAll("select, input, textarea").forEach(function (field) {
        if (!field.hasAttribute("aria-label") && !field.labels.length) {
          field.setAttribute("aria-label", "Value of " + row.getAttribute("data-param-name"));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.SwaggerUIBundle({
      url: root.getAttribute("data-openapi"),
      domNode: root,
      deepLinking: false,
      docExpansion: "list",
      validatorUrl: null,
      tryItOutEnabled: false,
      // The page's own heading and text say what the API is: no second title (h1) from Swagger.
      plugins: [
        function () {
          return { components: { InfoContainer: function () { return null; } } };
        },
      ],
    });
    new MutationObserver(function () {
      labelParameterFields(root);
    }).observe(root, { childList: true, subtree: true });
  });
})();
