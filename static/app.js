// med-z1 client behaviour. No inline scripts anywhere (the CSP forbids
// them): everything interactive is wired here by data attributes.
(function () {
  "use strict";

  var SIDEBAR_KEY = "med-z1-sidebar-collapsed";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // --- Sidebar: button and Ctrl/Cmd+B (ignored while typing) ---------------
  function setSidebar(collapsed) {
    var layout = $("#layout");
    var toggle = $("#sidebar-toggle");
    if (!layout || !toggle) return;
    layout.classList.toggle("is-collapsed", collapsed);
    toggle.setAttribute("aria-expanded", String(!collapsed));
    try { localStorage.setItem(SIDEBAR_KEY, collapsed ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // --- Modals (native <dialog>: focus trap and Escape built in) --------------
  function openModal(id) {
    var dialog = document.getElementById(id);
    if (!dialog || dialog.open) return;
    dialog.showModal();
    if (id === "patient-search-modal") {
      var input = $("#patient-search-input");
      if (input) { input.focus(); input.select(); }
    }
    if (id === "flags-modal") {
      var button = $("#flags-button");
      var url = button && button.getAttribute("data-flags-url");
      var body = $("#flags-modal-body");
      if (url && body && window.htmx) {
        body.innerHTML = '<p class="state state--loading" role="status">Loading flags…</p>';
        htmx.ajax("GET", url, { target: body, swap: "innerHTML" });
      }
    }
  }
  function closeModal(id) {
    var dialog = document.getElementById(id);
    if (dialog && dialog.open) dialog.close();
  }

  document.addEventListener("click", function (ev) {
    var opener = ev.target.closest("[data-modal-open]");
    if (opener && !opener.disabled) { openModal(opener.getAttribute("data-modal-open")); return; }
    var closer = ev.target.closest("[data-modal-close]");
    if (closer) { closeModal(closer.getAttribute("data-modal-close")); return; }
    if (ev.target.id === "sidebar-toggle" || ev.target.closest("#sidebar-toggle")) {
      setSidebar(!$("#layout").classList.contains("is-collapsed"));
    }
  });

  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && (ev.key === "b" || ev.key === "B")) {
      if (isTyping(document.activeElement)) return;
      ev.preventDefault();
      var layout = $("#layout");
      if (layout) setSidebar(!layout.classList.contains("is-collapsed"));
      return;
    }
    // Search results: arrows move between results, Enter selects.
    var input = $("#patient-search-input");
    var buttons = $all("#search-results .search-result__button");
    if (!buttons.length) return;
    var active = document.activeElement;
    var index = buttons.indexOf(active);
    if (ev.key === "ArrowDown" && (active === input || index >= 0)) {
      ev.preventDefault();
      buttons[Math.min(index + 1, buttons.length - 1)].focus();
    } else if (ev.key === "ArrowUp" && index >= 0) {
      ev.preventDefault();
      if (index === 0) { input.focus(); } else { buttons[index - 1].focus(); }
    } else if (ev.key === "Home" && index >= 0) {
      ev.preventDefault(); buttons[0].focus();
    } else if (ev.key === "End" && index >= 0) {
      ev.preventDefault(); buttons[buttons.length - 1].focus();
    }
  });

  // --- Flag history loads when its <details> first opens ---------------------
  document.addEventListener("toggle", function (ev) {
    var details = ev.target;
    if (!details.matches || !details.matches("details[data-lazy-history]") || !details.open) return;
    var target = $(".flag-history", details);
    if (target && window.htmx) htmx.trigger(target, "load-history");
  }, true);

  // --- Widgets: a request that never reached the server shows an error -----
  document.addEventListener("htmx:sendError", function (ev) {
    var target = ev.detail && ev.detail.target;
    if (target) {
      target.innerHTML = '<div class="state state--error" role="alert">Could not reach the server. Check your connection and refresh.</div>';
    }
  });

  // --- CCOW: follow the user's context as the vault announces changes -------
  function currentIcn() {
    var header = $("#patient-header-container .patient-header--active");
    return header ? header.getAttribute("data-patient-icn") : null;
  }
  function followContext(patientId) {
    if ((patientId || null) === currentIcn()) return;
    var page = document.body.getAttribute("data-page");
    // A patient's domain page follows to the same page of the new patient.
    if (page && page !== "dashboard") {
      window.location.assign(patientId ? "/patient/" + encodeURIComponent(patientId) + "/" + page : "/");
      return;
    }
    if (!window.htmx) { window.location.reload(); return; }
    htmx.ajax("GET", "/api/patient/header", { target: "#patient-header-container", swap: "innerHTML" });
    htmx.ajax("GET", "/dashboard", { target: "#main", select: "#main", swap: "outerHTML" });
  }
  function listen() {
    if (!window.EventSource || !$("#patient-header-container")) return;
    var source = new EventSource("/api/ccow/events");
    source.addEventListener("context", function (ev) {
      try { followContext(JSON.parse(ev.data).patient_id); } catch (e) { /* ignore malformed */ }
    });
    document.body.setAttribute("data-ccow-listening", "true");
  }

  // "Refresh from VistA" posts a plain form; the sites can take a few
  // seconds, so say so and block a second click.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute("data-vista-refresh")) return;
    var button = form.querySelector("button[type=submit]");
    if (!button) return;
    if (button.disabled) { ev.preventDefault(); return; }
    button.disabled = true;
    button.textContent = "Asking VistA…";
    form.setAttribute("aria-busy", "true");
  });

  document.addEventListener("DOMContentLoaded", function () {
    var collapsed = false;
    try { collapsed = localStorage.getItem(SIDEBAR_KEY) === "1"; } catch (e) { /* private mode */ }
    if (collapsed) setSidebar(true);
    listen();
  });
})();
