// Goal: the JSON gateway refuses a bytes field exactly where etcd 3.4's gateway does, whose JSON
// decoder uses Go's base64.StdEncoding ("illegal base64 data at input byte N").
// Method: the index for inputs whose answers were read off a real etcd 3.4.23
// (POST /v3/kv/range {"key": <input>}), plus valid inputs that must pass.
import { goBase64ErrorIndex } from '../../../src/api/http/gateway.js';

describe("Go's base64.StdEncoding error index", () => {
  it.each([
    ['not base64!', 3],
    ['Zm9vYg', 4],
    ['Zm9vY', 4],
    ['Zm=v', 2],
    ['Zm9v=', 4],
    ['Zm9vYg=', 7],
    ['Zg=', 3],
    ['Z', 0],
    ['-_8=', 0],
    ['Zg==x', 4],
  ])('refuses %j at byte %i', (input, index) => {
    expect(goBase64ErrorIndex(input)).toBe(index);
  });

  it.each(['', 'Zm9v', 'Zm9vYg==', 'Zm9vYmE=', 'Zm9v\n', 'Zm\r\n9v'])('accepts %j', (input) => {
    expect(goBase64ErrorIndex(input)).toBeNull();
  });
});
