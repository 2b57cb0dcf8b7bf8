// The cases under vitest itself; run only by test/lib/vitest-portable.test.ts
// (`vitest run --root test/lib/harness-cases`): some fail on purpose, so the
// project config leaves this folder out.
import { describe, test } from 'vitest';
import { registerCases } from './cases.ts';

registerCases({ describe, test });
