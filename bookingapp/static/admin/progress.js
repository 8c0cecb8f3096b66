// Follows a generation job: starts it (or joins the running one), then polls until done.
// Without this script the page still works: a button starts the job and the page refreshes.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) return;
  var bar = box.querySelector(".progress-bar");
  var meter = box.querySelector(".progress");
  var text = box.querySelector(".progress-text");
  var errorBox = box.querySelector(".progress-error");
  var done = box.querySelector(".progress-done");
  var form = box.querySelector(".start-form");
  var POLL_MS = 400;

  function request(method, url) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": box.dataset.csrf },
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
        return body;
      });
    });
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function show(job) {
    bar.style.width = job.percent + "%";
    meter.setAttribute("aria-valuenow", job.percent);
    if (job.status === "failed") {
      text.textContent = "Generation failed.";
      showError(job.error || "unknown error");
    } else if (job.done) {
      text.textContent = job.percent + " % · done: " + job.days_done + " of " + job.days_total +
        " days, " + job.slots_created + " slots created.";
      done.hidden = false;
    } else {
      text.textContent = job.percent + " % · " + job.days_done + " of " + (job.days_total || "?") +
        " days, " + job.slots_created + " slots so far…";
    }
  }

  function poll(jobId) {
    request("GET", box.dataset.jobUrl.replace("JOB", jobId)).then(function (job) {
      show(job);
      if (!job.done) setTimeout(function () { poll(jobId); }, POLL_MS);
    }).catch(function (err) { showError("Lost track of the job: " + err.message); });
  }

  if (form) form.hidden = true;
  if (box.dataset.jobId) {
    poll(box.dataset.jobId);
  } else {
    text.textContent = "Starting…";
    request("POST", box.dataset.startUrl).then(function (job) {
      show(job);
      poll(job.id);
    }).catch(function (err) {
      showError("Could not start: " + err.message);
      if (form) form.hidden = false;
    });
  }
})();
