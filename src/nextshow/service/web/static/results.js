// Results: the share field shows the full address; "Copy link" copies it.
"use strict";

(function () {
  const field = document.getElementById("share-url");
  const button = document.getElementById("copy-link");
  const status = document.getElementById("copy-status");
  field.value = window.location.origin + window.location.pathname;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Link copied.";
    } catch (err) {
      status.textContent = "Select the address above and copy it.";
    }
  });
})();
