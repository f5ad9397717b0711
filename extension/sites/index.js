// The registry of site extractors: the first whose host pattern matches the page wins; generic.js
// takes every other page. Each module exports {id, label, hosts, findComment, listComments,
// findExpanders, extract} and has saved-page fixtures in tests/extension/fixtures/<id>-*.html.
import * as facebook from './facebook.js';
import * as generic from './generic.js';
import * as google from './google.js';
import * as instagram from './instagram.js';
import * as tripadvisor from './tripadvisor.js';
import { expandAll } from './util.js';

export const sites = [facebook, tripadvisor, google, instagram, generic];

export function siteForUrl(url) {
  let host;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return generic;
  }
  return sites.find((site) => site.hosts.some((pattern) => pattern.test(host))) ?? generic;
}

/** Click the site's "See more" controls inside the comment so the text is complete. */
export function expandComment(site, root, options) {
  return expandAll(root, site.findExpanders, options);
}
