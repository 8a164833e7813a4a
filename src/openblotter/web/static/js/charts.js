// Draw each chart of the charts page from its Vega-Lite spec, which reads the JSON API.
// The numbers are also in the server-rendered table under each chart, so a page
// without JavaScript (or a failed fetch) loses nothing.
(function () {
  "use strict";

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-vega-lite"));
    } catch (error) {
      return;
    }
    // ast: Vega evaluates expressions with vega-embed's interpreter, not eval, so the
    // page's Content-Security-Policy (no 'unsafe-eval') holds.
    window.vegaEmbed(canvas, spec, { actions: false, renderer: "svg", ast: true }).then(function () {
      canvas.setAttribute("data-drawn", "true");
    }).catch(function () {
      canvas.textContent = "";
    });
  }

  function start() {
    if (!window.vegaEmbed || !window.vega) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-vega-lite]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
