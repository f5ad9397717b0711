// Small progressive enhancements; every form also works without JavaScript.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  field.select();
  navigator.clipboard.writeText(field.value).then(() => {
    const text = button.textContent;
    button.textContent = "✓";
    setTimeout(() => { button.textContent = text; }, 1200);
  });
});

// Erasing a case cannot be undone: ask once more.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
