// clinic flame on its own file, deep only (npm run test:deep): 0x's post-processing is the
// slowest of the three (177 s of a 294 s run of all three under load average ≈ 20 on 2 cores).
import { it } from 'vitest';
import { defineClinicTests } from './clinic-cases.ts';

if (process.env.PERPX_DEEP === '1') defineClinicTests(['flame']);
else it.skip('clinic flame writes an HTML report that holds data (PERPX_DEEP=1)', () => {});
