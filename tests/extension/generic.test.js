import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as generic from '../../extension/sites/generic.js';
import { loadFixture } from './helpers.js';

describe('generic: any other page', () => {
  const { document, url } = loadFixture('generic-blog-it.html');

  it('takes the picked block, its text and the page URL; guesses nothing else', () => {
    const emphasis = document.querySelector('#c-1 em');
    const node = generic.findComment(emphasis);
    assert.equal(node.tagName, 'P');
    const data = generic.extract(node, url);
    assert.equal(data.platform, 'other');
    assert.equal(data.text, "Ci sono stata anch'io: ottima la carbonara!");
    assert.equal(data.page_url, url);
    assert.deepEqual(data.author, { name: null, profile_url: null, badge: null });
    assert.equal(data.permalink, null);
    assert.equal(data.comment_html, node.outerHTML);
  });

  it('lists article elements for the saved-page tool', () => {
    assert.equal(generic.listComments(document).length, 2);
  });
});
