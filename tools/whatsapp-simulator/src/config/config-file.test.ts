import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatorInputError } from '../simulator-input-error';
import { parseConfigFile } from './config-file';

const CONFIG = `
appSecret: app-secret-1
seed: 42
timeScale: 60
wabas:
  - id: "102290129340398"
    phoneNumbers:
      - id: "106540352242922"
        displayPhoneNumber: "+1 555-010-2030"
        accessToken: EAAtoken1
        throughputMps: 250
    templates:
      - name: order_update
        language: en_US
        category: UTILITY
        bodyParameters: 2
  - id: "102290129340399"
    appSecret: app-secret-2
    phoneNumbers:
      - id: "106540352242999"
        displayPhoneNumber: "+1 555-010-9999"
        accessToken: EAAtoken2
`;

describe('parseConfigFile', () => {
  it('turns WABAs with their numbers and templates into simulator options', () => {
    const options = parseConfigFile(CONFIG);
    assert.equal(options.appSecret, 'app-secret-1');
    assert.equal(options.seed, 42);
    assert.equal(options.timeScale, 60);
    assert.deepEqual(options.phoneNumbers, [
      {
        id: '106540352242922',
        displayPhoneNumber: '+1 555-010-2030',
        accessToken: 'EAAtoken1',
        throughputMps: 250,
        wabaId: '102290129340398',
      },
      { id: '106540352242999', displayPhoneNumber: '+1 555-010-9999', accessToken: 'EAAtoken2', wabaId: '102290129340399' },
    ]);
    assert.deepEqual(options.wabas, [{ id: '102290129340398' }, { id: '102290129340399', appSecret: 'app-secret-2' }]);
    assert.deepEqual(options.templates, [
      { name: 'order_update', language: 'en_US', category: 'UTILITY', bodyParameters: 2, wabaId: '102290129340398' },
    ]);
  });

  it('names the bad field', () => {
    assert.throws(() => parseConfigFile('appSecret: x\nwabas: []'), /wabas/);
    assert.throws(
      () => parseConfigFile(CONFIG.replace('accessToken: EAAtoken1', 'accessToken: ""')),
      /wabas\.0\.phoneNumbers\.0\.accessToken/,
    );
    assert.throws(() => parseConfigFile(CONFIG.replace('seed: 42', 'sed: 42')), SimulatorInputError);
    assert.throws(() => parseConfigFile('appSecret: [unclosed'), /not valid YAML/);
  });
});
