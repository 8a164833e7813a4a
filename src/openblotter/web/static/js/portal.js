// Progressive enhancement of the explore page: filters, sorting and pages update the
// table in place (and the address bar, so the URL stays shareable). Without
// JavaScript the same form and links load the page normally.
(function () {
  "use strict";

  var ROOT = "[data-explore]";

  function root() {
    return document.querySelector(ROOT);
  }

  var NARROW = "(max-width: 63.99em)";

  // On a phone the filters fold away so that the rows come first (without JavaScript they stay open).
  function foldFilters(keepOpen) {
    var panel = document.querySelector("[data-collapse-narrow]");
    if (panel && window.matchMedia && window.matchMedia(NARROW).matches) {
      panel.open = Boolean(keepOpen);
    }
  }

  function formUrl(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (String(value).trim() !== "") {
        params.append(name, value);
      }
    });
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function load(url, push) {
    var current = root();
    current.setAttribute("data-loading", "true");
    current.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector(ROOT);
        if (!fresh) {
          window.location.assign(url);
          return;
        }
        var panel = current.querySelector("[data-collapse-narrow]");
        var wasOpen = panel ? panel.open : false;
        current.innerHTML = fresh.innerHTML;
        foldFilters(wasOpen);
        current.removeAttribute("data-loading");
        current.removeAttribute("aria-busy");
        document.title = page.title;
        if (push) {
          window.history.pushState({ explore: true }, "", url);
        }
        var status = document.getElementById("results-status");
        if (status) {
          status.setAttribute("tabindex", "-1");
          status.focus();
        }
      })
      .catch(function () {
        window.location.assign(url);
      });
  }

  function sameExplorePage(link) {
    return link.origin === window.location.origin && link.pathname === window.location.pathname &&
      !link.hasAttribute("download");
  }

  function start() {
    var explore = root();
    if (!explore) {
      return;
    }
    foldFilters(false);
    if (!window.fetch || !window.history.pushState || !window.URLSearchParams) {
      return;
    }
    explore.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.id !== "filter-form") {
        return;
      }
      event.preventDefault();
      load(formUrl(form), true);
    });
    explore.addEventListener("click", function (event) {
      var link = event.target.closest("a[href]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
        return;
      }
      if (sameExplorePage(link)) {
        event.preventDefault();
        load(link.href, true);
      }
    });
    window.addEventListener("popstate", function () {
      load(window.location.href, false);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
