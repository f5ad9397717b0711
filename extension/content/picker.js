// The picker: the comment under the mouse is outlined, a click picks it, Esc cancels.
// Listens in the capture phase so the page's own handlers never see the picking click.

export function createOutline(document) {
  const box = document.createElement('div');
  box.setAttribute('data-testimone-ui', 'outline');
  box.style.cssText = 'position:fixed;pointer-events:none;z-index:2147483646;border:3px solid #d93025;'
    + 'border-radius:4px;box-shadow:0 0 0 9999px rgba(0,0,0,0.08);display:none;box-sizing:border-box;';
  document.documentElement.append(box);
  return {
    show(element) {
      const rect = element.getBoundingClientRect();
      Object.assign(box.style, {
        display: 'block', left: `${rect.left - 3}px`, top: `${rect.top - 3}px`,
        width: `${rect.width + 6}px`, height: `${rect.height + 6}px`,
      });
    },
    hide() {
      box.style.display = 'none';
    },
    remove() {
      box.remove();
    },
  };
}

/** Resolves with the picked comment element, or null if the user pressed Esc. */
export function pickElement(document, findComment, hint) {
  return new Promise((resolve) => {
    const outline = createOutline(document);
    hint.hidden = false;
    let current = null;
    const candidate = (event) => (event.target.closest?.('[data-testimone-ui]') ? null : findComment(event.target));
    const onMove = (event) => {
      current = candidate(event);
      if (current) outline.show(current);
      else outline.hide();
    };
    const onClick = (event) => {
      const picked = candidate(event);
      if (!picked) return;
      event.preventDefault();
      event.stopPropagation();
      finish(picked);
    };
    const swallow = (event) => {
      if (candidate(event)) {
        event.preventDefault();
        event.stopPropagation();
      }
    };
    const onKey = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        finish(null);
      }
    };
    const events = [['mouseover', onMove], ['click', onClick], ['mousedown', swallow], ['mouseup', swallow], ['keydown', onKey]];
    for (const [name, listener] of events) document.addEventListener(name, listener, true);
    function finish(element) {
      for (const [name, listener] of events) document.removeEventListener(name, listener, true);
      outline.remove();
      hint.hidden = true;
      resolve(element);
    }
  });
}
