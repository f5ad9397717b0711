// Declared only on the supported sites: remembers the element under the last right-click, so
// "Cattura con Testimone" in the context menu knows which comment was meant. Nothing else.
document.addEventListener('contextmenu', (event) => {
  globalThis.__testimoneContextTarget = event.target;
}, { capture: true, passive: true });
