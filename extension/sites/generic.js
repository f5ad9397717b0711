// Any other page: the element the user picked, its text and the page URL. Nothing is guessed.
import { emptyResult, textOf } from './util.js';

export const id = 'generic';
export const label = 'Other site';
export const hosts = [];

const BLOCK = 'article, [role="article"], blockquote, li, p, section, div, td';

/** The nearest block element: a click on a <span> inside a paragraph means the paragraph. */
export function findComment(element) {
  return element?.closest?.(BLOCK) ?? null;
}

export function listComments(document) {
  return [...document.querySelectorAll('article, [role="article"]')];
}

export function findExpanders() {
  return [];
}

export function extract(element, pageUrl) {
  const result = emptyResult(pageUrl, 'other');
  result.text = textOf(element);
  result.comment_html = element.outerHTML;
  return result;
}
