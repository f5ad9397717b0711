import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
import { cleanText, parseWrittenDate, textOf } from '../../extension/sites/util.js';

describe('parseWrittenDate', () => {
  for (const [text, expected] of [
    ['Scritta il 14 settembre 2026', '2026-09-14'],
    ['Written 3 October 2026', '2026-10-03'],
    ['September 12, 2019', '2019-09-12'],
    ['2 g', null],
    ['30 maggio alle ore 11:02', null],
    ['a week ago', null],
    ['32 maggio 2026', null],
    ['', null],
    [null, null],
  ]) {
    it(`${JSON.stringify(text)} → ${expected}`, () => assert.equal(parseWrittenDate(text), expected));
  }

  it('keeps the time of day with the browser offset', () => {
    assert.match(parseWrittenDate('venerdì 20 novembre 2026 alle ore 18:31'), /^2026-11-20T18:31:00[+-]\d\d:\d\d$/);
    assert.match(parseWrittenDate('Friday, 20 November 2026 at 18:31'), /^2026-11-20T18:31:00[+-]\d\d:\d\d$/);
  });
});

describe('cleanText', () => {
  it('collapses spaces, trims lines and empty runs', () => {
    assert.equal(cleanText('  a\u00a0\u00a0 b \n\n\n\n  c  '), 'a b\n\nc');
  });
});

describe('textOf: the text as rendered, not as written in the source', () => {
  const render = (html) => textOf(new JSDOM(`<body><div id="x">${html}</div></body>`).window.document.getElementById('x'));

  for (const [html, expected, why] of [
    ['<a href="/Profile/c">Chrissie\n      H</a>', 'Chrissie H', 'a source line break inside a name is a space'],
    ['<span>visit\n   during the festival</span>', 'visit during the festival', 'indentation inside a sentence is one space'],
    ['one<br>two', 'one\ntwo', '<br> is a line break'],
    ['<div>one</div>\n   <div>two</div>', 'one\ntwo', 'blocks are lines'],
    ['<p>one</p><p>two</p>', 'one\n\ntwo', 'paragraphs are separated by an empty line'],
    ['<span>a</span>   \n  <span>b</span>', 'a b', 'whitespace between inline elements is one space'],
    ['<svg><title>5 of 5 bubbles</title></svg>  Great', 'Great', "an svg's title is a tooltip, not text"],
    ['<span style="display: none">hidden</span>shown', 'shown', 'hidden elements give nothing'],
    ['<script>var x = 1</script><noscript>enable js</noscript>ok', 'ok', 'scripts give nothing'],
    ['Bravi <img alt="😀" src="e.png">', 'Bravi 😀', 'emoji images give their alt text'],
    ['<pre>a\n  b</pre>', 'a\nb', 'pre keeps its line breaks'],
  ]) {
    it(why, () => assert.equal(render(html), expected));
  }

  it('skip() leaves out a control such as "See more"', () => {
    const { document } = new JSDOM('<div id="x">Long text… <span role="button">See more</span></div>').window;
    assert.equal(textOf(document.getElementById('x'), { skip: (node) => node.getAttribute('role') === 'button' }), 'Long text…');
  });
});
