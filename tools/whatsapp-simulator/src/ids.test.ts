import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIdSource, encodeWamid } from './ids';

describe('ids', () => {
  it('encodes wamids like Meta: base64 of a record embedding the wa_id', () => {
    const wamid = encodeWamid('60173526233', 'b6f950d4e7861a37ed');
    assert.equal(wamid, 'wamid.HBgLNjAxNzM1MjYyMzMVAgARGBJCNkY5NTBENEU3ODYxQTM3RUQA');
  });

  it('is reproducible per seed and independent per stream', () => {
    const a = createIdSource(42);
    const b = createIdSource(42);
    b.mediaId(); // consuming another stream must not shift wamids
    b.random();
    assert.equal(a.wamid('4915112345678'), b.wamid('4915112345678'));
    assert.notEqual(a.wamid('4915112345678'), createIdSource(43).wamid('4915112345678'));
  });

  it('is random without a seed', () => {
    assert.notEqual(createIdSource().wamid('4915112345678'), createIdSource().wamid('4915112345678'));
    assert.match(createIdSource().mediaId(), /^1\d{15}$/);
    const random = createIdSource(1).random();
    assert.ok(random >= 0 && random < 1);
  });
});
