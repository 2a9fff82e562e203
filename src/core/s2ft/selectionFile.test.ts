import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { tinyConfig } from '../model/testing/tinyModels';
import { readSelectionFile, writeSelectionFile } from './selectionFile';

const config = tinyConfig({ numLayers: 3 }); // H 4, Hkv 2, F 48

function errorOf(text: string): UserError {
  try {
    readSelectionFile(text, config, 'selection.json');
  } catch (e) {
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

describe('selection file', () => {
  it('round-trips a valid selection (indices sorted on write)', () => {
    const sel = {
      layers: [
        { heads: [3, 1], channels: [17, 0, 5] },
        { heads: [], channels: [47] },
        { heads: [0], channels: [], vHeads: [1], upChannels: [2, 9] },
      ],
    };
    const text = writeSelectionFile(sel);
    const back = readSelectionFile(text, config);
    expect(back.layers[0]).toEqual({ heads: [1, 3], channels: [0, 5, 17] });
    expect(back.layers[2]).toEqual({ heads: [0], channels: [], vHeads: [1], upChannels: [2, 9] });
    expect(readSelectionFile(writeSelectionFile(back), config)).toEqual(back);
  });

  it.each([
    ['not json', 'selection.json: not valid JSON'],
    ['{"layer": []}', 'selection.json: expected an object with a "layers" array'],
    ['{"layers": [{"heads":[],"channels":[]}]}', 'selection.json: "layers" has 1 entries but the model has 3 layers'],
    [
      '{"layers": [{"heads":[0],"channels":[]},{"heads":[],"channels":[]},{"heads":[1,9],"channels":[]}]}',
      'selection.json: layers[2].heads[1] = 9 is out of range (model has 4 heads)',
    ],
    [
      '{"layers": [{"heads":[0],"channels":[1.5]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0].channels[0] = 1.5 is not an integer',
    ],
    [
      '{"layers": [{"heads":[0],"channels":["3"]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0].channels[0] = "3" is not an integer',
    ],
    [
      '{"layers": [{"heads":[2,2],"channels":[]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0].heads[1] = 2 is listed twice',
    ],
    [
      '{"layers": [{"heads":[],"channels":[48]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0].channels[0] = 48 is out of range (model has 48 FFN channels)',
    ],
    [
      '{"layers": [{"heads":[],"channels":[],"vHeads":[2]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0].vHeads[0] = 2 is out of range (model has 2 key/value heads)',
    ],
    [
      '{"layers": [{"channels":[]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0].heads is missing',
    ],
    [
      '{"layers": [{"heads":[],"channels":[],"head":[]},{"heads":[],"channels":[]},{"heads":[],"channels":[]}]}',
      'selection.json: layers[0] has unknown field "head"',
    ],
  ])('rejects %s', (text, message) => {
    const e = errorOf(text);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message.startsWith(message)).toBe(true);
    expect(e.file).toBe('selection.json');
  });
});
