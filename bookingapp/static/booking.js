// Says beside the Book button which time is chosen. Without this script the form books
// just the same; the server writes the summary when it shows the page again.
(function () {
  "use strict";
  var choice = document.getElementById("choice");
  if (!choice) return;
  function show(input) {
    choice.textContent = "";
    if (!input) { choice.textContent = choice.dataset.none; return; }
    var strong = document.createElement("strong");
    strong.textContent = input.dataset.summary;
    choice.append(choice.dataset.prefix + " ", strong);
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name === "slot_id" && input.type === "radio" && input.checked) show(input);
  });
})();
