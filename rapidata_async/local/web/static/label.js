// The labeling page: sign in from the invite link, answer with the number keys.
"use strict";
(function () {
  // The invite token travels after '#': it never reaches a server log or a Referer header.
  const join = document.getElementById("join-form");
  if (join) {
    const token = decodeURIComponent(window.location.hash.slice(1));
    if (token) {
      window.history.replaceState(null, "", window.location.pathname);
      join.elements.token.value = token;
      join.submit();
    }
    return;
  }
  const form = document.getElementById("answer-form");
  if (!form) return;
  let sent = false;
  form.addEventListener("submit", (event) => {
    if (sent) event.preventDefault();
    sent = true;
  });
  window.addEventListener("pageshow", () => { sent = false; });
  document.addEventListener("keydown", (event) => {
    if (sent || event.ctrlKey || event.metaKey || event.altKey || !/^[0-9]$/.test(event.key)) return;
    const button = form.querySelector('button.answer[data-key="' + event.key + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
