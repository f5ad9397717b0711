import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandComment } from '../../extension/sites/index.js';
import * as tripadvisor from '../../extension/sites/tripadvisor.js';
import { JSDOM } from 'jsdom';
import { loadFixture } from './helpers.js';

describe('tripadvisor.it restaurant (current layout)', () => {
  const { document, url } = loadFixture('tripadvisor-restaurant-it.html');
  const items = tripadvisor.listComments(document).map((card) => tripadvisor.extract(card, url));

  it('finds the two review cards and ignores the non-review HR_CC_CARD widget', () => {
    assert.equal(items.length, 2);
  });

  it('extracts rating, title, permalink on .it, author, visit and written date', () => {
    const [first] = items;
    assert.equal(first.platform, 'tripadvisor');
    assert.equal(first.rating, 5);
    assert.equal(first.title, 'Carbonara da ricordare');
    assert.equal(first.permalink, 'https://www.tripadvisor.it/ShowUserReviews-g187791-d1234567-r934556787-Trattoria_Demo-Rome_Lazio.html');
    assert.deepEqual(first.author, { name: 'Luca F', profile_url: 'https://www.tripadvisor.it/Profile/LucaFinto82', badge: null });
    assert.equal(first.visit_date_text, 'set 2026 • Coppie');
    assert.equal(first.posted_at_text, 'Scritta il 14 settembre 2026');
    assert.equal(first.posted_at, '2026-09-14');
    assert.equal(first.post.author, 'Trattoria Demo');
    assert.equal(first.machine_translated, false);
  });

  it('the text is the review, not the owner response nor the disclaimer', () => {
    assert.match(items[0].text, /^Carbonara cremosa senza panna/);
    assert.doesNotMatch(items[0].text, /Grazie Luca|opinione soggettiva|Leggi di più/);
  });

  it('records the machine-translation flag', () => {
    assert.equal(items[1].machine_translated, true);
    assert.equal(items[1].rating, 1);
  });

  it('clicks "Leggi di più" to get the full text', async () => {
    const live = loadFixture('tripadvisor-restaurant-it.html', { runScripts: true });
    const card = tripadvisor.listComments(live.document)[0];
    assert.equal(await expandComment(tripadvisor, card), true);
    assert.match(tripadvisor.extract(card, live.url).text, /Torneremo con gli amici!$/);
  });

  it('findComment climbs from the text to its card, and not from the widget', () => {
    const text = [...document.querySelectorAll('span.yCeTE')].find((node) => node.textContent.startsWith('Prezzi'));
    assert.equal(tripadvisor.extract(tripadvisor.findComment(text), url).author.name, 'Winifred T');
    const widget = document.querySelector('[data-test-target="HR_CC_CARD"] a');
    assert.equal(tripadvisor.findComment(widget), null);
  });
});

describe('tripadvisor.com hotel (HR_CC_CARD layout)', () => {
  const { document, url } = loadFixture('tripadvisor-hotel-com.html');
  const items = tripadvisor.listComments(document).map((card) => tripadvisor.extract(card, url));

  it('keeps only cards with a review link', () => {
    assert.deepEqual(items.map((item) => item.author.name), ['Penelope Invented', 'Rupert N']);
  });

  it('reads the labelled date of stay and trip type, the title and the decimal rating', () => {
    const [first] = items;
    assert.equal(first.visit_date_text, 'Date of stay: September 2026 • Trip type: Travelled as a couple');
    assert.equal(first.title, 'Quiet room, great breakfast');
    assert.equal(first.rating, 4);
    assert.equal(first.posted_at, '2026-09-18');
    assert.match(first.text, /^We asked for a quiet room/);
    assert.equal(first.permalink, 'https://www.tripadvisor.com/ShowUserReviews-g186338-d7654321-r934560123-Harbour_View_Demo_Hotel-London_England.html');
    assert.equal(items[1].rating, 2);
  });
});

describe('tripadvisor.co.uk attraction (≤2019 legacy layout)', () => {
  const { document, url } = loadFixture('tripadvisor-legacy-couk.html');
  const items = tripadvisor.listComments(document).map((card) => tripadvisor.extract(card, url));

  it('reads .review-container cards: bubble_20 is 2, .noQuotes title, .ratingDate title', () => {
    assert.equal(items.length, 2);
    const [first, second] = items;
    assert.equal(first.rating, 2);
    assert.equal(second.rating, 5);
    assert.equal(first.title, 'Guide was late and rude');
    assert.equal(first.author.name, 'Fergus_Madeup');
    assert.equal(first.author.profile_url, 'https://www.tripadvisor.co.uk/Profile/Fergus_Madeup', '/Profile/<screen name>');
    assert.equal(first.posted_at, '2019-09-12');
    assert.equal(first.visit_date_text, 'Date of experience: September 2019');
    assert.match(first.text, /gate B\. Half of the tour was skipped\.\.\.$/);
    assert.equal(first.permalink, 'https://www.tripadvisor.co.uk/ShowUserReviews-g190384-d2345678-r701234567-Castle_Demo_Tours-Edinburgh_Scotland.html');
  });
});

describe('hand-made edge case: a short review on an indented page', () => {
  // As in a saved 2026 Attraction_Review page: the rating's <div> holds hundreds of spaces of
  // indentation around an svg whose <title> is "5 of 5 bubbles", and the review itself is short.
  const padding = `\n${' '.repeat(400)}`;
  const html = `<div data-automation="reviewCard">
    <div>${padding}<svg data-automation="bubbleRatingImage"><title>5 of 5 bubbles</title><path d="M0"/></svg>${padding}</div>
    <div data-test-target="review-title"><a href="/ShowUserReviews-g1-d2-r345-Demo.html"><span>Lovely</span></a></div>
    <div><span>Great\n        guide, short walk.</span></div>
  </div>`;
  const { document } = new JSDOM(html, { url: 'https://www.tripadvisor.com/Attraction_Review-g1-d2-Reviews-Demo.html' }).window;
  const item = tripadvisor.extract(tripadvisor.listComments(document)[0], document.URL);

  it('the text is the review, never the rating label', () => {
    assert.equal(item.text, 'Great guide, short walk.');
    assert.equal(item.rating, 5);
  });
});
