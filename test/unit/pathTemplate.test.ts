import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathTemplate } from '../../logs/pathTemplate.js';

describe('pathTemplate', () => {
  it('replaces ids, uuids, hashes, emails and tokens with placeholders', () => {
    assert.equal(pathTemplate('/products/1234'), '/products/{id}');
    assert.equal(pathTemplate('/users/3f2b8c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f/orders/17'), '/users/{uuid}/orders/{id}');
    assert.equal(pathTemplate('/static/app.9f86d081884c7d65.js'), '/static/app.9f86d081884c7d65.js');
    assert.equal(pathTemplate('/blobs/9f86d081884c7d659a2feaa0c55ad015'), '/blobs/{hash}');
    assert.equal(pathTemplate('/newsletter/unsubscribe/jane@example.com'), '/newsletter/unsubscribe/{email}');
    assert.equal(pathTemplate('/session/ab12cd34ef'), '/session/{token}');
  });

  it('keeps plain words, drops the query string and collapses empty segments', () => {
    assert.equal(pathTemplate('/'), '/');
    assert.equal(pathTemplate(''), '/');
    assert.equal(pathTemplate('/search?q=shoes&page=2'), '/search');
    assert.equal(pathTemplate('//api//v1/products/'), '/api/v1/products');
    assert.equal(pathTemplate('/wp-login.php'), '/wp-login.php');
  });

  it('bounds the number of segments so odd paths cannot make unbounded templates', () => {
    const deep = `/${Array.from({ length: 40 }, (_, index) => `a${index}`).join('/')}`;
    assert.equal(pathTemplate(deep).split('/').length, 14);
  });
});
