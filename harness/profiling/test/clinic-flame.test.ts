// clinic flame on its own file: 0x's post-processing is the slowest of the three
// (177 s of a 294 s run of all three under load average ≈ 20 on 2 cores).
import { defineClinicTests } from './clinic-cases.ts';

defineClinicTests(['flame']);
