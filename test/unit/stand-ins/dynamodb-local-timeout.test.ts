/** The DynamoDB Local start timeout: option, then XC_DYNAMODB_START_TIMEOUT_MS, then 60 s; bad values named. */
import { START_TIMEOUT_ENV, startTimeoutMs } from '../../../stand-ins/dynamodb-local';

describe('DynamoDB Local start timeout', () => {
  it('takes the option first, then the environment, then 60 s', () => {
    expect(startTimeoutMs(5000, { [START_TIMEOUT_ENV]: '9000' })).toBe(5000);
    expect(startTimeoutMs(undefined, { [START_TIMEOUT_ENV]: '9000' })).toBe(9000);
    expect(startTimeoutMs(undefined, {})).toBe(60_000);
    expect(startTimeoutMs(undefined, { [START_TIMEOUT_ENV]: '' })).toBe(60_000);
  });

  it.each(['abc', '0', '-5', '1.5'])('refuses %j in the environment by name', (raw) => {
    expect(() => startTimeoutMs(undefined, { [START_TIMEOUT_ENV]: raw })).toThrow(
      new RegExp(
        `${START_TIMEOUT_ENV} must be a positive integer.*${JSON.stringify(raw).replace('.', '\\.')}`,
      ),
    );
  });

  it('refuses a non-positive option', () => {
    expect(() => startTimeoutMs(0, {})).toThrow(/startTimeoutMs must be a positive number/);
  });
});
