import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as facebook from '../../extension/sites/facebook.js';
import { expandComment } from '../../extension/sites/index.js';
import { loadFixture } from './helpers.js';

function byAuthor(document, url, name) {
  const node = facebook.listComments(document).find((article) => facebook.extract(article, url).author.name === name);
  assert.ok(node, `no comment by ${name}`);
  return node;
}

describe('facebook: Italian post page', () => {
  const { document, url } = loadFixture('facebook-post-it.html');

  it('finds every comment and reply, innermost first by document order', () => {
    const names = facebook.listComments(document).map((article) => facebook.extract(article, url).author.name);
    assert.deepEqual(names, ['Ottavio Inventato', 'Beatrice Fittizia', 'Trattoria Demo', 'Gualtiero Immaginario']);
  });

  it('extracts author, clean profile URL, text, time text and permalink without tracking', () => {
    const data = facebook.extract(byAuthor(document, url, 'Ottavio Inventato'), url);
    assert.equal(data.platform, 'facebook');
    assert.equal(data.page_url, url);
    assert.equal(data.author.profile_url, 'https://www.facebook.com/ottavio.inventato.7');
    assert.equal(data.text, 'Il peggior ristorante della città, il cuoco è un incapace e il proprietario un truffatore.');
    assert.equal(data.posted_at_text, '2 g');
    assert.equal(data.posted_at, null, 'a relative time is never turned into an absolute one');
    assert.equal(data.permalink, 'https://www.facebook.com/trattoria.demo/posts/pfbid02Xk9TrattoriaDemo7l?comment_id=1772521800368774');
    assert.deepEqual(data.post, {
      author: 'Trattoria Demo',
      url: 'https://www.facebook.com/trattoria.demo/posts/pfbid02Xk9TrattoriaDemo7l',
      text: 'Stasera menù di funghi porcini! 🍄 Prenotate al numero in bio.',
    });
    assert.match(data.comment_html, /^<div aria-label="Commento di Ottavio Inventato/);
  });

  it('keeps the id of a profile.php profile and excludes the nested reply from the parent', () => {
    const data = facebook.extract(byAuthor(document, url, 'Beatrice Fittizia'), url);
    assert.equal(data.author.profile_url, 'https://www.facebook.com/profile.php?id=100089123456789');
    assert.doesNotMatch(data.text, /Grazie di cuore/);
    assert.doesNotMatch(data.text, /Altro$/, 'the "Altro" button is not part of the text');
    assert.equal(data.permalink.endsWith('comment_id=1772521800368800'), true);
  });

  it('a reply keeps comment_id and reply_comment_id, and emoji images become text', () => {
    const data = facebook.extract(byAuthor(document, url, 'Trattoria Demo'), url);
    assert.equal(data.text, 'Grazie di cuore Beatrice, vi aspettiamo! 😊');
    assert.equal(new URL(data.permalink).searchParams.get('reply_comment_id'), '905512349912345');
    assert.equal(new URL(data.permalink).searchParams.get('comment_id'), '1772521800368800');
  });

  it('a comment without a timestamp link has no time and no permalink (never invented)', () => {
    const data = facebook.extract(byAuthor(document, url, 'Gualtiero Immaginario'), url);
    assert.equal(data.permalink, null);
    assert.equal(data.posted_at_text, null);
    assert.equal(data.posted_at, null);
    assert.match(data.text, /sconto del 50%/);
  });

  it('findComment picks the innermost article under the pointer', () => {
    const replyText = [...document.querySelectorAll('div[dir="auto"]')].find((node) => node.textContent.startsWith('Grazie di cuore'));
    assert.match(facebook.findComment(replyText).getAttribute('aria-label'), /^Risposta di Trattoria Demo/);
    const parentText = [...document.querySelectorAll('div[dir="auto"]')].find((node) => node.textContent.startsWith('Siamo stati'));
    assert.match(facebook.findComment(parentText).getAttribute('aria-label'), /^Commento di Beatrice/);
  });

  it('a click on the post (not a comment) picks the post itself', () => {
    const message = document.querySelector('[data-ad-preview="message"] div[dir="auto"]');
    const data = facebook.extract(facebook.findComment(message), url);
    assert.equal(data.author.name, 'Trattoria Demo');
    assert.equal(data.author.profile_url, 'https://www.facebook.com/trattoria.demo/');
    assert.equal(data.posted_at_text, '30 maggio 2026 alle ore 11:02');
    assert.match(data.posted_at, /^2026-05-30T11:02:00[+-]\d\d:\d\d$/);
  });

  it('clicks "Altro" so the captured text is complete', async () => {
    const live = loadFixture('facebook-post-it.html', { runScripts: true });
    const article = byAuthor(live.document, live.url, 'Beatrice Fittizia');
    assert.match(facebook.extract(article, live.url).text, /gentilissimo…$/);
    assert.equal(await expandComment(facebook, article), true);
    const data = facebook.extract(article, live.url);
    assert.match(data.text, /Torneremo sicuramente!$/);
    assert.equal(facebook.findExpanders(article).length, 0);
  });
});

describe('facebook: English photo page', () => {
  const { document, url } = loadFixture('facebook-photo-en.html');

  it('reads "Comment by"/"Reply by" articles with an absolute time from the aria-label', () => {
    const [first, reply, third] = facebook.listComments(document).map((node) => facebook.extract(node, url));
    assert.equal(first.author.name, 'Harriet Madeup');
    assert.equal(first.text, "Best fish and chips on the coast. 🐟 The staff remembered our dog's name!");
    assert.equal(first.posted_at_text, '1w');
    assert.match(first.posted_at, /^2026-11-13T20:47:00[+-]\d\d:\d\d$/);
    assert.equal(first.permalink, 'https://www.facebook.com/photo/?fbid=122145678901234&comment_id=887766554433221');
    assert.equal(first.post.author, 'Harbour Bistro Demo');
    assert.equal(first.post.url, 'https://www.facebook.com/photo/?fbid=122145678901234');
    assert.equal(reply.author.name, 'Desmond Notreal');
    assert.match(reply.text, /harbour is this good and the…$/, 'still truncated: the page was saved with "See more"');
    assert.equal(facebook.findExpanders(facebook.listComments(document)[1]).length, 1);
    assert.equal(third.machine_translated, true, '"See original" means Facebook translated it');
    assert.equal(first.machine_translated, false);
  });

  it('the parent comment excludes its reply text', () => {
    const first = facebook.extract(facebook.listComments(document)[0], url);
    assert.doesNotMatch(first.text, /dog-friendly policy/);
  });
});

describe('facebook: page recommendation without comments', () => {
  const { document, url } = loadFixture('facebook-recommendation-nocomments-en.html');

  it('lists no comments', () => {
    assert.deepEqual(facebook.listComments(document), []);
  });

  it('the recommendation post itself can be picked', () => {
    const text = document.querySelector('[data-ad-preview="message"] div');
    const data = facebook.extract(facebook.findComment(text), url);
    assert.equal(data.author.name, 'Olga Nonexistent');
    assert.equal(data.author.profile_url, 'https://www.facebook.com/profile.php?id=100012345678901');
    assert.equal(data.text, 'Lovely crab linguine and a very kind owner.');
    assert.equal(data.permalink, 'https://www.facebook.com/permalink.php?story_fbid=pfbid0Reco123&id=100012345678901');
  });

  it('outside any article there is nothing to pick', () => {
    assert.equal(facebook.findComment(document.querySelector('[role="banner"]')), null);
  });
});

describe('facebook: URL helpers', () => {
  const base = 'https://www.facebook.com/x';
  for (const [href, expected] of [
    ['/mario.rossi.1?comment_id=Y29t&__cft__[0]=AZ&__tn__=R]-R', 'https://www.facebook.com/mario.rossi.1'],
    ['https://www.facebook.com/profile.php?id=42&__tn__=R', 'https://www.facebook.com/profile.php?id=42'],
    ['/groups/123/user/456/?__cft__[0]=x', 'https://www.facebook.com/groups/123/user/456/'],
    ['javascript:alert(1)', null],
    ['', null],
  ]) {
    it(`profileUrl(${JSON.stringify(href)})`, () => assert.equal(facebook.profileUrl(href, base), expected));
  }
  it('commentPermalink needs a comment_id', () => {
    assert.equal(facebook.commentPermalink('/p/posts/1?__tn__=x', base), null);
    assert.equal(facebook.commentPermalink('/p/posts/1?comment_id=9&__cft__[0]=a#x', base), 'https://www.facebook.com/p/posts/1?comment_id=9');
  });
});
