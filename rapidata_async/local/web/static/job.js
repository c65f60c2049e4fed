// Live progress of the job view: server-sent events update the bar without a reload, and the
// results section is fetched once the job ends.
"use strict";
(function () {
  const section = document.getElementById("progress");
  if (!section || !window.EventSource) return;
  const $ = (id) => document.getElementById(id);
  const live = $("live");
  const source = new EventSource(section.dataset.events);
  source.addEventListener("progress", (event) => {
    const p = JSON.parse(event.data);
    $("bar").max = p.total || 1;
    $("bar").value = p.completed;
    $("completed").textContent = p.completed;
    $("total").textContent = p.total;
    $("responses").textContent = p.responses;
    $("percent").textContent = Number(p.percent).toFixed(1) + " %";
    $("state").textContent = p.state;
    $("state").className = "state state-" + p.state.toLowerCase();
    $("reason").textContent = p.reason;
    live.textContent = "live";
  });
  source.addEventListener("done", async () => {
    source.close();
    live.textContent = "";
    const response = await fetch(section.dataset.results, { credentials: "same-origin" });
    if (response.ok) $("results").innerHTML = await response.text();
  });
  source.onerror = () => { live.textContent = "reconnecting…"; };
})();
