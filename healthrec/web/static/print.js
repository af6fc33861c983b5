// Print buttons (data-print): a file of its own, as the pages allow no inline script.
document.querySelectorAll("button[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
