// Google Maps reviews and Instagram comments on real saved markup (fixtures/README.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as google from '../../extension/sites/google.js';
import * as instagram from '../../extension/sites/instagram.js';
import { siteForUrl } from '../../extension/sites/index.js';
import { loadFixture } from './helpers.js';

describe('Google Maps place page (2023)', () => {
  const { document, url } = loadFixture('google-maps-place-2023-en.html');
  const cards = google.listComments(document);

  it('finds the three reviews, each once, from anywhere inside it', () => {
    assert.equal(cards.length, 3);
    const text = [...document.querySelectorAll('span')].find((node) => node.textContent.startsWith('Invented review: relaxed room'));
    assert.equal(google.findComment(text), cards[1]);
    const likeButton = cards[1].querySelector('button[data-review-id]');
    assert.equal(google.findComment(likeButton), cards[1]);
  });

  it('keeps the owner response apart from the review, and flags Local Guides', () => {
    const item = google.extract(cards[1], url);
    assert.equal(item.text, 'Invented review: relaxed room, tasty plates and drinks, very kind staff. We will come back!');
    assert.deepEqual(item.owner_response, { text: 'Thank you for your review Rosalba 😀', posted_at_text: '3 weeks ago' });
    assert.equal(item.author.badge, 'Local Guide');
    assert.equal(google.extract(cards[2], url).author.badge, null);
  });

  it('finds the "More" button of a truncated review and leaves it out of the text', () => {
    assert.equal(google.findExpanders(cards[2]).length, 1);
    assert.doesNotMatch(google.extract(cards[2], url).text, /More$/);
  });

  it('is chosen for maps pages', () => {
    assert.equal(siteForUrl(url).id, 'google');
  });
});

describe('Instagram comment (2025)', () => {
  const { document, url } = loadFixture('instagram-comment-2025-en.html');
  const [comment] = instagram.listComments(document);

  it('climbs from the words to the comment, which holds the handle, the time and the words only', () => {
    const words = [...document.querySelectorAll('span[dir="auto"]')].find((node) => node.textContent.startsWith('Invented comment'));
    assert.equal(instagram.findComment(words), comment);
    assert.doesNotMatch(instagram.extract(comment, url).text, /Notion|Reply|View all/);
  });

  it('the name is the handle, not the avatar\'s alt text', () => {
    assert.equal(instagram.extract(comment, url).author.name, 'trattoria_fan_inventato');
  });
});
