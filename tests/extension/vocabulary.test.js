import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLATFORM_HOSTS, PLATFORMS } from '../../extension/lib/vocabulary.js';
import { sites } from '../../extension/sites/index.js';

// Host names a site extractor might claim, right and wrong ones.
const HOSTS = ['www.facebook.com', 'm.facebook.com', 'web.facebook.com', 'facebook.com', 'fb.com',
  'www.tripadvisor.com', 'www.tripadvisor.it', 'www.tripadvisor.co.uk', 'www.tripadvisor.com.au', 'tripadvisor.de',
  'example.com', 'facebook.com.evil.example', 'notfacebook.com', 'tripadvisor.evil.example'];

const platformOf = (host) => Object.keys(PLATFORM_HOSTS).find((name) => PLATFORM_HOSTS[name].test(host)) ?? 'other';

describe('the extension and the server share one vocabulary', () => {
  it('every site extractor is a platform the server knows', () => {
    for (const site of sites.filter((s) => s.hosts.length)) assert.ok(PLATFORMS.includes(site.id), site.id);
  });
  it('a host an extractor claims is that platform for the server too', () => {
    for (const site of sites) {
      for (const host of HOSTS.filter((h) => site.hosts.some((pattern) => pattern.test(h)))) {
        assert.equal(platformOf(host), site.id, host);
      }
    }
  });
});
