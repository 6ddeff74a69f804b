/* Répertoire: progressive enhancement. Every page works without this file.
 *
 * - Search page: ticking a filter, changing the sort or following a page link
 *   updates the results in place; the address bar keeps a shareable URL and
 *   the Back button goes through the previous searches. On a phone, filters
 *   apply with their button, then the results come into view.
 * - Inputs with data-suggest="name|town" propose values as one types, from
 *   the JSON suggest endpoint (a native <datalist>, so keyboards and screen
 *   readers get the browser's own list).
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // -- suggestions ---------------------------------------------------------
  function attachSuggestions(input) {
    var endpoint = input.getAttribute("data-suggest-url");
    var field = input.getAttribute("data-suggest");
    if (!endpoint || !field || !window.fetch) return;
    var list = document.createElement("datalist");
    list.id = input.id + "-suggestions";
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("list", list.id);
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var text = input.value.trim();
        if (text.length < 2 || text === asked) return;
        asked = text;
        var url = endpoint + "?field=" + encodeURIComponent(field) + "&q=" + encodeURIComponent(text);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
          .then(function (data) {
            if (input.value.trim() !== text) return; // typed on meanwhile
            var options = data.suggestions.map(function (item) {
              var option = document.createElement("option");
              option.value = item.value;
              return option;
            });
            list.replaceChildren.apply(list, options);
          })
          .catch(function () { /* suggestions are a convenience: stay silent */ });
      }, 150);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), attachSuggestions);

  // -- search results in place ----------------------------------------------
  var form = document.querySelector("form[data-live-search]");
  if (!form || !window.fetch || !window.history.pushState || !window.DOMParser) return;
  var status = document.getElementById("search-status");
  var pending = null;
  var shown = window.location.pathname + window.location.search;
  // On a phone the filters open above the results: a ticked box waits for « Appliquer les filtres »,
  // which then shows the results, instead of changing them out of sight.
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 52rem)") : { matches: false };

  function settleFilters(close) {
    var details = document.querySelector("details[data-facets]");
    if (!details) return;
    if (!narrow.matches) details.open = true; // browsers that cannot show closed details content
    else if (close) details.open = false;
  }
  settleFilters(false);

  function formUrl() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (String(value).trim() !== "") params.append(key, value);
    });
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function swap(selector, doc) {
    var fresh = doc.querySelector(selector);
    var current = document.querySelector(selector);
    if (fresh && current) current.replaceWith(document.importNode(fresh, true));
    return Boolean(fresh && current);
  }

  function load(url, focusId, fromHistory) {
    if (pending) pending.abort();
    pending = new AbortController();
    var region = document.querySelector("[data-live-region]");
    if (region) region.setAttribute("aria-busy", "true");
    fetch(url, { signal: pending.signal, headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!swap("[data-live-region]", doc)) { window.location.assign(url); return; }
        swap("[data-live-actions]", doc);
        ["f-q", "f-name", "f-place", "f-intervention"].forEach(function (id) {  // a chip or a suggestion changed them
          var fresh = doc.getElementById(id), current = document.getElementById(id);
          if (fresh && current && current !== document.activeElement) current.value = fresh.value;
        });
        settleFilters(true);
        document.title = doc.title;
        if (!fromHistory) window.history.pushState({ liveSearch: true }, "", url);
        shown = url;
        Array.prototype.forEach.call(document.querySelectorAll("a[data-language-switch]"), function (link) {
          var target = new URL(link.href, window.location.href);
          target.searchParams.set("next", url);
          link.href = target.pathname + target.search;
        });
        var heading = document.getElementById("results-title");
        if (status && heading) status.textContent = heading.textContent.replace(/\s+/g, " ").trim();
        var target = focusId && document.getElementById(focusId);
        if (target) {
          target.focus();
          if (focusId === "results-title") target.scrollIntoView({ block: "start" });
        }
      })
      .catch(function (error) {
        if (error.name !== "AbortError") window.location.assign(url); // let the server answer
      });
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches(".facet input[type=checkbox]") && narrow.matches) return;
    if (target.matches(".facet input[type=checkbox]") || target.id === "f-sort") {
      load(formUrl(), target.id);
    }
  });

  form.addEventListener("submit", function (event) {
    if (!event.submitter || !event.submitter.hasAttribute("data-apply-filters")) return;
    event.preventDefault();
    load(formUrl(), "results-title");
  });

  form.addEventListener("click", function (event) {
    var link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    if (!link.closest(".pagination, .active-filters, .facet-more, .empty")) return;
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname !== window.location.pathname) return;
    event.preventDefault();
    load(url.pathname + url.search, link.closest(".facet-more") ? null : "results-title");
  });

  window.addEventListener("popstate", function () {
    var url = window.location.pathname + window.location.search;
    if (url === shown) return; // only the #fragment changed (the skip link): the results are already here
    load(url, null, true);
  });
}());
