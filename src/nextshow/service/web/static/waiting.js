// Waiting: long-poll the prediction (the server holds each request until the answer is ready,
// up to ?wait= seconds) until it is done, then show the results page. An answer that comes
// back sooner while still pending (an error, or a server too busy to hold it) is retried with
// back-off. Failure and time-out say so clearly and offer a retry.
"use strict";

(function () {
  const box = document.getElementById("waiting");
  const id = box.dataset.prediction;
  const timeoutMs = Number(box.dataset.timeout || 60) * 1000;
  const inputs = JSON.parse(box.dataset.inputs || "[]");
  const progress = document.getElementById("progress");
  const bar = progress.querySelector("span");
  const text = document.getElementById("progress-text");
  const elapsed = document.getElementById("elapsed");
  const problem = document.getElementById("problem");
  const problemTitle = document.getElementById("problem-title");
  const problemText = document.getElementById("problem-text");
  const retry = document.getElementById("retry");
  let started = Date.now();
  const longestWait = 10;  // seconds the server holds one request
  let delay = 250;
  let timer = null;
  let ticker = null;
  let failed = false;

  function setProgress(fraction, words) {
    const pct = Math.max(5, Math.min(95, Math.round(fraction * 100)));
    bar.style.width = `${pct}%`;
    progress.setAttribute("aria-valuenow", String(pct));
    if (words && text.textContent !== words) text.textContent = words;
  }

  function tick() {
    const secs = (Date.now() - started) / 1000;
    elapsed.textContent = `${Math.floor(secs)} s`;
    // An estimate, not a measurement: most answers come within a few seconds.
    setProgress(1 - Math.exp(-secs / 4), secs < 2 ? "Your request is in the queue." : "Finding shows people with your taste liked…");
  }

  function stop() {
    clearTimeout(timer);
    clearInterval(ticker);
  }

  function showProblem(title, words, retryLabel) {
    stop();
    problemTitle.textContent = title;
    problemText.textContent = words;
    retry.textContent = retryLabel;
    problem.hidden = false;
    document.getElementById("progress-box").hidden = true;
    retry.focus();
  }

  async function poll() {
    if (Date.now() - started > timeoutMs) {
      showProblem(
        "This is taking longer than expected",
        "No answer yet: the recommender may be busy or not running. Your request is saved; " +
          "you can keep waiting, or start over.",
        "Keep waiting"
      );
      return;
    }
    // Never past the time-out: the page offers "Keep waiting" then.
    const wait = Math.min(longestWait, Math.max(0, (timeoutMs - (Date.now() - started)) / 1000));
    const asked = Date.now();
    try {
      const response = await fetch(`/api/predictions/${id}?wait=${wait.toFixed(1)}`, {
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const body = await response.json();
        if (body.status === "done") {
          stop();
          setProgress(1, "Done! Showing your recommendations…");
          window.location.replace(`/results/${id}`);
          return;
        }
        if (body.status === "failed") {
          failed = true;
          showProblem(
            "Sorry, this request failed",
            body.error ? `The recommender reported: ${body.error}` : "The recommender could not answer.",
            "Try again"
          );
          return;
        }
      }
    } catch (err) {
      // A network blip: keep polling until the time-out.
    }
    if (Date.now() - asked >= wait * 1000) {
      delay = 250;
      timer = setTimeout(poll, 0);  // held for the whole wait: ask again at once
      return;
    }
    delay = Math.min(delay * 1.5, 3000);
    timer = setTimeout(poll, delay);
  }

  async function resubmit() {
    retry.disabled = true;
    try {
      const response = await fetch("/api/predictions", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ shows: inputs }),
      });
      if (response.status === 202) {
        const body = await response.json();
        window.location.assign(`/results/${body.prediction_id}`);
        return;
      }
      problemText.textContent = `Still failing (${response.status}). Please start over.`;
    } catch (err) {
      problemText.textContent = "Could not reach the server. Please try again shortly.";
    } finally {
      retry.disabled = false;
    }
  }

  retry.addEventListener("click", () => {
    if (failed && inputs.length) { resubmit(); return; }
    problem.hidden = true;
    document.getElementById("progress-box").hidden = false;
    started = Date.now();
    delay = 250;
    ticker = setInterval(tick, 500);
    poll();
  });

  ticker = setInterval(tick, 500);
  tick();
  poll();
})();
