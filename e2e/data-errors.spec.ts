import { expect, test } from './fixtures';
import { openStudio } from './studio';

test('a broken JSONL line is reported with its line number and the reason', async ({ page }) => {
  const studio = await openStudio(page);
  await studio.modelLoaded();
  const rows = [
    JSON.stringify({ instruction: 'Say hello.', output: 'hello' }),
    '{"instruction": "Say bye.", "output": "bye"',
    JSON.stringify({ prompt: 'one two', completion: ' three' }),
    JSON.stringify({ messages: 'not a list' }),
    JSON.stringify({ text: 'the whale' }),
  ];
  await studio.uploadData('mine.jsonl', rows.join('\n'));
  const errors = await studio.dataErrors();
  console.log(`data errors:\n  ${errors.join('\n  ')}`);
  expect(errors).toHaveLength(2);
  expect(errors[0]).toMatch(/^line 2: .*JSON/i);
  expect(errors[1]).toMatch(/^line 4: .*messages/);
  // The good rows still load, and the summary says two lines were skipped.
  expect(await studio.dataLoaded()).toMatch(/3 examples .*2 broken lines skipped/);
});
